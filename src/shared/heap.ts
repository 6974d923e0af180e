// How far V8 lets the JavaScript heap grow between full collections. After each one it sets the next limit at the
// live size times a factor that it raises up to 4 when collections look cheap next to the program's allocation. A
// run promotes a steady trickle of short-lived objects to the old generation (pages and batches that outlive a
// young-generation collection while a write is under way), so over a long pull the factor climbed and the heap with
// it: peak RSS 246-284 MB at a million payments against 176 MB at 100,000, the same work per record. A factor of 2
// keeps the peak near the live size whatever the run's length (twelve runs each: 206-241 MB, median 216, and 170-182
// MB), and costs no CPU that the benchmark can tell apart from the machine's drift; a factor of 1.3-1.5 saved a
// little more memory for 5-10% more of payrecon's CPU in the pull.
import v8 from 'node:v8';

export const HEAP_GROWING_PERCENT = 100;

const FLAG = /--heap[-_]growing[-_]percent\b/;

/** Whether the user set the growth already (on the command line or in NODE_OPTIONS): theirs wins. */
export function userSetHeapGrowth(execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  return execArgv.some((a) => FLAG.test(a)) || FLAG.test(nodeOptions ?? '');
}

/** Caps the heap's growth factor for this process (see above), unless the user chose one. */
export function limitHeapGrowth(
  execArgv: readonly string[] = process.execArgv,
  nodeOptions: string | undefined = process.env.NODE_OPTIONS,
): boolean {
  if (userSetHeapGrowth(execArgv, nodeOptions)) return false;
  v8.setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  return true;
}
