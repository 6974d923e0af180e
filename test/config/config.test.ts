import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfigFile, parseConfig, resolveConfigPath } from '../../src/config/load.js';
import { makeScrubber, redactConfig } from '../../src/config/redact.js';
import { ConfigError } from '../../src/shared/errors.js';
import { redactUrl } from '../../src/shared/redact-url.js';

const base = () => ({
  providers: {
    useepay: {
      baseUrl: 'https://openapi1.uat.useepay.com',
      merchantNo: '500000000007245',
      appId: 'www.pay.com',
      apiKey: '${USEEPAY_API_KEY}',
      settlement: { source: 'local', localDir: './inbox' },
    },
  },
});

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('configuration', () => {
  const env = { USEEPAY_API_KEY: 'UseePay_SK_topsecret' };

  it('interpolates variables, applies defaults and converts nothing silently', () => {
    const { config, secrets } = parseConfig(base(), env, '/etc/payrecon/payrecon.config.yaml');
    expect(config.providers.useepay?.apiKey).toBe('UseePay_SK_topsecret');
    expect(config.providers.useepay?.settlementLagDays).toBe(2);
    expect(config.timezone).toBe('UTC');
    expect(config.providers.useepay?.settlement.localDir).toBe('/etc/payrecon/inbox');
    expect(secrets).toContain('UseePay_SK_topsecret');
  });

  it('finds the file from --config, else PAYRECON_CONFIG, else ./payrecon.config.yaml; an empty variable is unset', () => {
    const fallback = path.resolve('payrecon.config.yaml');
    expect(resolveConfigPath(undefined, {})).toBe(fallback);
    expect(resolveConfigPath(undefined, { PAYRECON_CONFIG: '' })).toBe(fallback);
    expect(resolveConfigPath(undefined, { PAYRECON_CONFIG: '/etc/payrecon.yaml' })).toBe(
      '/etc/payrecon.yaml',
    );
    expect(resolveConfigPath('/srv/a.yaml', { PAYRECON_CONFIG: '/etc/payrecon.yaml' })).toBe('/srv/a.yaml');
  });

  it('names a missing variable and the key that needs it', () => {
    expect(errorOf(() => parseConfig(base(), {}))).toBe(
      'providers.useepay.apiKey: environment variable USEEPAY_API_KEY is not set',
    );
  });

  it('names every variable not set, and every other problem, at once', () => {
    const raw = {
      ...base(),
      colour: 'blue',
      notify: { webhookUrl: '${HOOK_URL}' },
      timezone: '${TZ_X-Europe/Berlin}',
    };
    expect(errorOf(() => parseConfig(raw, {})).split('; ')).toEqual([
      'providers.useepay.apiKey: environment variable USEEPAY_API_KEY is not set',
      'notify.webhookUrl: environment variable HOOK_URL is not set',
      'timezone: malformed variable reference at character 1: use ${NAME} or ${NAME:-default}',
      'colour: unknown key',
    ]);
  });

  it('supports ${VAR:-default} and ${VAR:-} (unset)', () => {
    const raw = { ...base(), database: { url: '${DATABASE_URL:-}' }, timezone: '${TZ_X:-Europe/Berlin}' };
    const { config } = parseConfig(raw, env);
    expect(config.database.url).toBeUndefined();
    expect(config.timezone).toBe('Europe/Berlin');
    const withEnvUrl = parseConfig(base(), { ...env, DATABASE_URL: 'postgres://u:pw@db/x' });
    expect(withEnvUrl.config.database.url).toBe('postgres://u:pw@db/x');
  });

  it('names the variable a bad value came from, never its value', () => {
    const raw = { ...base(), database: { url: '${DATABASE_URL:-}' }, timezone: '${TZ_X:-Europe/Berlin}' };
    const msg = errorOf(() =>
      parseConfig(raw, { ...env, DATABASE_URL: 'mysql://u:hunter2@db/x', TZ_X: 'Mars/Olympus' }),
    );
    expect(msg).toMatch(/DATABASE_URL \(database\.url\): /);
    expect(msg).toMatch(/TZ_X \(timezone\): /);
    expect(msg).not.toContain('hunter2');
    // A value written in the file, or a default, is named by its key alone.
    expect(errorOf(() => parseConfig({ ...raw, timezone: 'Mars/Olympus' }, env))).toMatch(/^timezone: /);
  });

  it('reads YAML anchors and merge keys, as operators share settings between providers', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'payrecon-yaml-'));
    try {
      const file = path.join(dir, 'payrecon.config.yaml');
      writeFileSync(
        file,
        [
          'providers:',
          '  payunity:',
          '    baseUrl: https://eu-test.oppwa.com',
          '    entityId: 8a8294174b7ecb28014b9699220015ca',
          '    accessToken: ${USEEPAY_API_KEY}',
          '    settlement:',
          '      source: sftp',
          '      sftp: &sftp',
          '        host: sftp.example.com',
          '        username: merchant',
          '        password: pw-123456',
          "        hostKeySha256: 'SHA256:abc'",
          '        remoteDir: /payunity',
          '  useepay:',
          '    baseUrl: https://openapi1.uat.useepay.com',
          "    merchantNo: '500000000007245'",
          '    appId: www.pay.com',
          '    apiKey: ${USEEPAY_API_KEY}',
          '    settlement:',
          '      source: sftp',
          '      sftp:',
          '        <<: *sftp',
          '        remoteDir: /useepay',
          '',
        ].join('\n'),
      );
      const { config } = loadConfigFile(file, env);
      expect(config.providers.useepay?.settlement.sftp).toMatchObject({
        host: 'sftp.example.com',
        username: 'merchant',
        remoteDir: '/useepay',
      });
      expect(config.providers.payunity?.settlement.sftp?.remoteDir).toBe('/payunity');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a ${ that is not a well-formed reference, and nested references, naming the key', () => {
    const withAppId = (appId: string) => {
      const raw = base();
      raw.providers.useepay.appId = appId;
      return raw;
    };
    const at = 'providers.useepay.appId';
    for (const bad of ['${APPID-fallback}', '${}', 'x-${APPID', '${1ST}', '${APPID:fallback}'])
      expect(errorOf(() => parseConfig(withAppId(bad), env))).toMatch(
        new RegExp(`^${at}: malformed variable reference at character \\d+: use \\$\\{NAME\\} or`),
      );
    for (const extra of [{}, { APPID: 'set', OTHER: 'set' }])
      expect(errorOf(() => parseConfig(withAppId('${APPID:-${OTHER}}'), { ...env, ...extra }))).toBe(
        `${at}: nested variable reference at character 1: a default cannot contain \${…}`,
      );
    // The message says where, not what: the value may be a secret typed into the file.
    const secret = errorOf(() => parseConfig(withAppId('pass${word'), env));
    expect(secret).toBe(
      `${at}: malformed variable reference at character 5: use \${NAME} or \${NAME:-default}`,
    );
    // Several references in one value, text around them, and a lone $ or } are fine.
    const ok = parseConfig(withAppId('$${A}-${B:-b}}/${C:-}x'), { ...env, A: 'a' });
    expect(ok.config.providers.useepay?.appId).toBe('$a-b}/x');
  });

  it('refuses unknown keys, wrong types and missing values with the key path', () => {
    expect(errorOf(() => parseConfig({ ...base(), reportz: {} }, env))).toMatch(/^reportz: unknown key/);
    const wrongType = base();
    (wrongType.providers.useepay as Record<string, unknown>).settlementLagDays = 'three';
    expect(errorOf(() => parseConfig(wrongType, env))).toMatch(/^providers\.useepay\.settlementLagDays: /);
    const missing = base();
    delete (missing.providers.useepay as Record<string, unknown>).merchantNo;
    expect(errorOf(() => parseConfig(missing, env))).toMatch(/^providers\.useepay\.merchantNo: /);
    expect(errorOf(() => parseConfig({ ...base(), timezone: 'Mars/Olympus' }, env))).toMatch(
      /^timezone: unknown time zone/,
    );
  });

  it('takes the database URLs node-postgres connects with, and refuses others without echoing them', () => {
    const url = (u: string) => ({ ...base(), database: { url: u } });
    for (const ok of [
      'postgres://u:pw@db:5432/x',
      'postgresql://db/x?sslmode=require',
      'postgres:///x?host=/var/run/postgresql',
      'socket:/var/run/postgresql?db=x',
      '/var/run/postgresql',
    ])
      expect(parseConfig(url(ok), env).config.database.url).toBe(ok);
    for (const bad of ['not-a-url', 'mysql://u:secretpw@db/x', 'postgres://u:secretpw@db:99999/x']) {
      const message = errorOf(() => parseConfig(url(bad), env));
      expect(message).toBe(
        'database.url: not a PostgreSQL URL such as postgres://user:password@host:5432/payrecon',
      );
      expect(message).not.toContain('secretpw');
    }
  });

  it('takes a pool size from 4 on, 6 by default, also as text from a variable; refuses fewer, naming the key', () => {
    expect(parseConfig(base(), env).config.database.poolSize).toBe(6);
    const sized = (poolSize: unknown) => ({ ...base(), database: { poolSize } });
    expect(parseConfig(sized(4), env).config.database.poolSize).toBe(4);
    expect(parseConfig(sized('${POOL:-12}'), env).config.database.poolSize).toBe(12);
    const tooFew =
      'database.poolSize: at least 4: a run holds its lock on one connection and works on both providers at once, and would stall with fewer';
    expect(errorOf(() => parseConfig(sized(3), env))).toBe(tooFew);
    expect(errorOf(() => parseConfig(sized('${POOL}'), { ...env, POOL: '1' }))).toBe(
      tooFew.replace('database.poolSize', 'POOL (database.poolSize)'),
    );
    expect(errorOf(() => parseConfig(sized(4.5), env))).toMatch(/^database\.poolSize: /);
  });

  it('refuses caps and fee amounts with more decimals than their currency has', () => {
    const raw = {
      ...base(),
      refunds: {
        maxPerRefund: { EUR: '50.001', JPY: 10.5, USD: '20.00' },
        maxPerExecution: { KWD: '1.2345' },
      },
    };
    raw.providers.useepay = {
      ...raw.providers.useepay,
      fees: [{ currency: 'JPY', percent: '3.6', fixed: '0.5', tolerance: '1' }],
    } as typeof raw.providers.useepay;
    expect(errorOf(() => parseConfig(raw, env)).split('; ')).toEqual([
      expect.stringMatching(
        /^providers\.useepay\.fees\.0\.fixed: amount "0\.5" has more decimals than JPY allows/,
      ),
      expect.stringMatching(
        /^refunds\.maxPerRefund\.EUR: amount "50\.001" has more decimals than EUR allows/,
      ),
      expect.stringMatching(/^refunds\.maxPerRefund\.JPY: amount "10\.5" has more decimals than JPY allows/),
      expect.stringMatching(/^refunds\.maxPerExecution\.KWD: .*KWD/),
    ]);
  });

  it('refuses a cap or fee rule in a code that is no ISO 4217 payment currency, naming the code', () => {
    const raw = {
      ...base(),
      refunds: { maxPerRefund: { EUR: '500.00', XXX: '500.00' }, maxPerExecution: { BTC: '1.00' } },
    };
    raw.providers.useepay = {
      ...raw.providers.useepay,
      fees: [{ currency: 'XAU', percent: '2.9', fixed: '0.25', tolerance: '0.01' }],
    } as typeof raw.providers.useepay;
    expect(errorOf(() => parseConfig(raw, env)).split('; ')).toEqual([
      'providers.useepay.fees.0.currency: currency "XAU" is not an ISO 4217 payment currency: expected one such as EUR',
      'refunds.maxPerRefund.XXX: currency "XXX" is not an ISO 4217 payment currency: expected one such as EUR',
      'refunds.maxPerExecution.BTC: currency "BTC" is not an ISO 4217 payment currency: expected one such as EUR',
    ]);
  });

  it('says once per key what is wrong with an amount that is not one', () => {
    const raw = {
      ...base(),
      refunds: {
        maxPerRefund: { EUR: -5, USD: 'abc', GBP: true, CHF: '20.00' },
        maxPerExecution: { JPY: '10.5' },
      },
    };
    raw.providers.useepay = {
      ...raw.providers.useepay,
      fees: [{ currency: 'EUR', percent: '2.9', fixed: -0.25, tolerance: '0.01' }],
    } as typeof raw.providers.useepay;
    const amount = 'expected an amount of zero or more, such as 500.00';
    expect(errorOf(() => parseConfig(raw, env)).split('; ')).toEqual([
      `providers.useepay.fees.0.fixed: ${amount}`,
      `refunds.maxPerRefund.EUR: ${amount}`,
      `refunds.maxPerRefund.USD: ${amount}`,
      `refunds.maxPerRefund.GBP: ${amount}`,
      'refunds.maxPerExecution.JPY: amount "10.5" has more decimals than JPY allows (0)',
    ]);
  });

  it('names every problem of a configuration, not only the first', () => {
    const broken = { ...base(), timezone: 'Mars/Olympus', holidays: ['2026-02-30'], colour: 'blue' };
    expect(errorOf(() => parseConfig(broken, env)).split('; ')).toEqual([
      expect.stringMatching(/^timezone: /),
      expect.stringMatching(/^holidays\.0: /),
      'colour: unknown key',
    ]);
  });

  it('refuses a holiday that is not a real date instead of rolling it over', () => {
    expect(errorOf(() => parseConfig({ ...base(), holidays: ['2026-02-30'] }, env))).toMatch(
      /^holidays\.0: expected YYYY-MM-DD/,
    );
    expect(parseConfig({ ...base(), holidays: ['2028-02-29'] }, env).config.holidays).toEqual(['2028-02-29']);
  });

  it('requires a pinned host key unless explicitly skipped', () => {
    const raw = base();
    raw.providers.useepay.settlement = {
      source: 'sftp',
      sftp: { host: 'h', username: 'u', password: 'pw-123456' },
    } as never;
    expect(errorOf(() => parseConfig(raw, env))).toMatch(
      /^providers\.useepay\.settlement\.sftp\.hostKeySha256: required/,
    );
    // And says how to find the fingerprint.
    expect(errorOf(() => parseConfig(raw, env))).toContain(
      '`ssh-keyscan -p <port> <host> | ssh-keygen -lf -`',
    );
  });

  it('takes a minimum file age and an sftp listed-size check, off and on by default, naming a bad one', () => {
    const withSettlement = (settlement: object) => {
      const raw = base();
      raw.providers.useepay.settlement = settlement as never;
      return raw;
    };
    const sftp = { host: 'h', username: 'u', password: 'pw-123456', insecureSkipHostKeyCheck: true };
    const defaults = parseConfig(withSettlement({ source: 'sftp', sftp }), env).config.providers.useepay!;
    expect(defaults.settlement.minFileAgeSeconds).toBe(0);
    expect(defaults.settlement.sftp!.checkListedSize).toBe(true);
    const set = parseConfig(
      withSettlement({
        source: 'sftp',
        minFileAgeSeconds: '${AGE:-300}',
        sftp: { ...sftp, checkListedSize: 'false' },
      }),
      env,
    ).config.providers.useepay!;
    expect(set.settlement.minFileAgeSeconds).toBe(300);
    expect(set.settlement.sftp!.checkListedSize).toBe(false);
    expect(
      errorOf(() =>
        parseConfig(withSettlement({ source: 'local', localDir: '.', minFileAgeSeconds: -1 }), env),
      ),
    ).toMatch(/^providers\.useepay\.settlement\.minFileAgeSeconds: /);
    expect(
      errorOf(() =>
        parseConfig(withSettlement({ source: 'local', localDir: '.', minFileAgeSeconds: 1.5 }), env),
      ),
    ).toMatch(/^providers\.useepay\.settlement\.minFileAgeSeconds: /);
    expect(
      errorOf(() =>
        parseConfig(withSettlement({ source: 'sftp', sftp: { ...sftp, checkListedSize: 'no' } }), env),
      ),
    ).toMatch(/^providers\.useepay\.settlement\.sftp\.checkListedSize: /);
  });

  it('validates custom settlement profiles before anything is fetched', () => {
    const raw = base();
    (raw.providers.useepay.settlement as Record<string, unknown>).profile = {
      filePattern: '^settle_(\\d{8}.txt$',
      columns: {
        kind: 'Art',
        currency: 'Whg',
        gross: 'Betrag',
        transactionId: 'Ref',
        settlementDate: 'Valuta',
      },
    };
    expect(errorOf(() => parseConfig(raw, env))).toMatch(/filePattern: invalid regular expression/);
    (raw.providers.useepay.settlement as Record<string, unknown>).profile = {
      filePattern: '^settle_(?<date>\\d{8})\\.txt$',
      columns: { kind: 'Art' },
    };
    expect(errorOf(() => parseConfig(raw, env))).toMatch(
      /profile\.columns\.(currency|gross|transactionId): required/,
    );
  });

  it('checks a profile name against the built-ins and a profile object key by key', () => {
    const withProfile = (profile: unknown) => {
      const raw = base();
      (raw.providers.useepay.settlement as Record<string, unknown>).profile = profile;
      return raw;
    };
    const at = 'providers.useepay.settlement.profile';
    expect(errorOf(() => parseConfig(withProfile('payunty'), env))).toBe(
      `${at}: unknown profile "payunty": use a built-in profile (payunity, useepay) or a custom profile object`,
    );
    expect(errorOf(() => parseConfig(withProfile(5), env))).toBe(
      `${at}: expected a built-in profile name (payunity, useepay) or a custom profile object`,
    );
    const custom = {
      filePattern: '^settle_(?<date>\\d{8})\\.txt$',
      columns: { kind: 'Art', currency: 'Whg', gross: 'Betrag', transactionId: 'Ref' },
    };
    expect(errorOf(() => parseConfig(withProfile({ ...custom, encoding: 'utf-8' }), env))).toMatch(
      new RegExp(`^${at}\\.encoding: Invalid option: expected one of "utf8"`),
    );
    expect(
      errorOf(() =>
        parseConfig(withProfile({ ...custom, kinds: { VERKAUF: 'payment', GEBUEHR: 'fees' } }), env),
      ),
    ).toMatch(new RegExp(`^${at}\\.kinds\\.GEBUEHR: Invalid option: expected one of "payment"`));
    expect(errorOf(() => parseConfig(withProfile({ ...custom, delimeter: ';' }), env))).toBe(
      `${at}.delimeter: unknown key`,
    );
    expect(parseConfig(withProfile('payunity'), env).config.providers.useepay?.settlement.profile).toBe(
      'payunity',
    );
    expect(parseConfig(base(), env).config.providers.useepay?.settlement.profile).toBe('useepay');
  });

  it('compiles the date formats of a custom profile at load, naming the key of a bad one', () => {
    const raw = base();
    const profile = {
      filePattern: '^settle_(?<date>\\d{8})\\.txt$',
      fileDateFormat: 'yyyyMMddQ',
      dateFormat: 'dd.MM.yyyy QQ',
      timestampFormat: "dd.MM.yyyy HH:mm:ss 'Uhr",
      columns: { kind: 'Art', currency: 'Whg', gross: 'Betrag', transactionId: 'Ref' },
    };
    (raw.providers.useepay.settlement as Record<string, unknown>).profile = profile;
    const at = 'providers.useepay.settlement.profile';
    expect(errorOf(() => parseConfig(raw, env)).split('; ')).toEqual([
      `${at}.dateFormat: date format "dd.MM.yyyy QQ": unsupported token "QQ"`,
      `${at}.timestampFormat: date format "dd.MM.yyyy HH:mm:ss 'Uhr": unterminated quote`,
      `${at}.fileDateFormat: date format "yyyyMMddQ": unsupported token "Q"`,
    ]);
  });

  it('takes text numbers and booleans from ${VAR:-default} in a custom profile too', () => {
    const raw = base();
    (raw.providers.useepay.settlement as Record<string, unknown>).profile = {
      filePattern: '^settle_(?<date>\\d{8})\\.txt$',
      header: '${HDR:-false}',
      skipLines: '${SKIP:-2}',
      columns: { kind: 1, currency: 2, gross: 3, transactionId: 4 },
    };
    const profile = parseConfig(raw, env).config.providers.useepay?.settlement.profile;
    expect(profile).toMatchObject({ header: false, skipLines: 2 });
    const fromEnv = parseConfig(raw, { ...env, HDR: 'false', SKIP: '0' }).config.providers.useepay;
    expect(fromEnv?.settlement.profile).toMatchObject({ header: false, skipLines: 0 });
  });

  it('redacts every secret when printing and scrubs them from text', () => {
    const { config, secrets } = parseConfig(
      { ...base(), database: { url: 'postgres://app:dbpass123@db:5432/recon' } },
      env,
    );
    const printed = JSON.stringify(redactConfig(config));
    expect(printed).not.toContain('UseePay_SK_topsecret');
    expect(printed).not.toContain('dbpass123');
    expect(printed).toContain('[redacted]');
    const scrub = makeScrubber(secrets);
    expect(scrub('401 for key UseePay_SK_topsecret at postgres://app:dbpass123@db')).toBe(
      '401 for key [redacted] at postgres://app:[redacted]@db',
    );
  });

  it('redacts a database password given as a query parameter, as node-postgres accepts it', () => {
    const url = 'postgres://app@db:5432/recon?password=dbpass456&sslpassword=keypass789&sslmode=require';
    const { config, secrets } = parseConfig({ ...base(), database: { url } }, env);
    const printed = JSON.stringify(redactConfig(config));
    expect(printed).not.toContain('dbpass456');
    expect(printed).not.toContain('keypass789');
    expect(printed).toContain('sslmode=require');
    expect(redactUrl(url, '?')).toBe(
      'postgres://app@db:5432/recon?password=redacted&sslpassword=redacted&sslmode=require',
    );
    expect(makeScrubber(secrets)('auth failed with dbpass456 / keypass789')).toBe(
      'auth failed with [redacted] / [redacted]',
    );
  });
});
