// Once per test run: a folder for every temporary file of the run, a PostgreSQL server (TEST_DATABASE_URL, else an
// embedded one), a template database migrated to the latest schema, and the build of the CLI that end-to-end tests run.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { connect } from '../src/db/connect.js';
import { startEmbedded, type EmbeddedServer } from '../src/db/embedded.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { serverPort } from '../src/shared/free-port.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A maintenance connection URL on the test server (database "postgres"). */
    pgAdminUrl: string;
    /** Name of the migrated template database each test file clones. */
    pgTemplate: string;
  }
}

let embedded: EmbeddedServer | undefined;
let runTmp: string | undefined;
/** On a server of the developer's (TEST_DATABASE_URL): the template to drop when the run ends. */
let dropTemplate: { adminUrl: string; name: string } | undefined;

async function onAdmin(adminUrl: string, statements: readonly string[]): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    for (const s of statements) await client.query(s);
  } finally {
    await client.end();
  }
}

export async function setup(project: TestProject): Promise<void> {
  // Every temporary file and folder of the run (the tests', the CLI's they start, the servers') goes in one folder
  // that the run removes at the end: a test that leaves its own behind litters nothing. The test workers and their
  // subprocesses inherit TMPDIR; sticky and open to all like /tmp, since some servers run as another user.
  // A developer's own database and configuration never reach the tests or the commands they start: each test names
  // its database and configuration itself, and a run against the real ones would write test data into them.
  for (const name of ['DATABASE_URL', 'PAYRECON_CONFIG', 'BENCH_DATABASE_URL']) delete process.env[name];
  runTmp = mkdtempSync(path.join(os.tmpdir(), 'payrecon-test-run-'));
  chmodSync(runTmp, 0o1777);
  process.env.TMPDIR = runTmp;

  let serverUrl = process.env.TEST_DATABASE_URL;
  if (!serverUrl) {
    const port = await serverPort();
    embedded = await startEmbedded({
      dataDir: path.join(runTmp, 'pg'),
      port,
      password: randomBytes(12).toString('hex'),
      settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off', max_connections: '200' },
    });
    serverUrl = embedded.url;
  }
  const admin = new URL(serverUrl);
  admin.pathname = '/postgres';
  const template = `payrecon_template_${process.pid}`;
  await onAdmin(admin.toString(), [`drop database if exists ${template}`, `create database ${template}`]);
  if (!embedded) dropTemplate = { adminUrl: admin.toString(), name: template };
  const tplUrl = new URL(admin);
  tplUrl.pathname = `/${template}`;
  const handle = connect(tplUrl.toString(), { max: 1 });
  try {
    await migrateToLatest(handle.db);
  } finally {
    await handle.close();
  }
  project.provide('pgAdminUrl', admin.toString());
  project.provide('pgTemplate', template);

  // End-to-end tests run the real CLI from dist/: build it once, incrementally. PAYRECON_TEST_NO_BUILD=1 skips
  // this for quick runs of tests that do not start the CLI.
  if (process.env.PAYRECON_TEST_NO_BUILD !== '1')
    execFileSync(
      process.execPath,
      [path.resolve('node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
      { stdio: 'inherit' },
    );

  return;
}

export async function teardown(): Promise<void> {
  // Each test file drops its own databases; the template is the run's to drop, or every run would leave one behind.
  if (dropTemplate)
    await onAdmin(dropTemplate.adminUrl, [`drop database if exists ${dropTemplate.name} with (force)`]);
  await embedded?.stop();
  if (runTmp) rmSync(runTmp, { recursive: true, force: true });
}
