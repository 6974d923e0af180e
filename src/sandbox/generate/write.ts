import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ProviderName } from '../../config/schema.js';
import type { SettlementFile, World } from './types.js';

// Writing a world to disk the way a gateway's SFTP drop would look: each file appears whole (temporary name, then
// rename), so a watcher or a fetch running at the same moment never reads half a file.

async function writeAtomic(path: string, content: Buffer | string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, content);
  await rename(tmp, path);
}

export async function writeSettlementFile(file: SettlementFile, dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, file.name);
  await writeAtomic(path, file.content);
  return path;
}

/** Writes every settlement file of the world (not the late one: see World.lateSettled) into its provider's folder. */
export async function writeSettlementFiles(
  world: World,
  dirs: Record<ProviderName, string>,
): Promise<string[]> {
  const paths: string[] = [];
  for (const file of world.settlementFiles) paths.push(await writeSettlementFile(file, dirs[file.provider]));
  return paths;
}

/** The answer key (with what it depends on) as pretty JSON. */
export async function writeAnswerKey(world: World, file: string): Promise<void> {
  const doc = {
    options: world.options,
    config: world.config,
    lateSettled: world.lateSettled
      ? { ...world.lateSettled, file: { ...world.lateSettled.file, content: undefined } }
      : null,
    answerKey: world.answerKey,
    awaiting: world.awaiting,
  };
  await writeAtomic(file, `${JSON.stringify(doc, null, 2)}\n`);
}
