// The contract between the sandbox data generator (src/sandbox/generate/**) and the gateway simulators
// (src/sandbox/server/**). Records stay in each gateway's own wire format so the simulators serve exactly what
// the generator produced and the real clients parse it as they would parse the real gateways.

export interface SandboxCredentials {
  payunity: { entityId: string; accessToken: string };
  useepay: { merchantNo: string; appId: string; apiKey: string };
}

/** Everything the simulators serve, in the gateways' own wire format (as gateways.md shows it). */
export interface SandboxData {
  credentials: SandboxCredentials;
  /** OPPWA query records exactly like ../shared/fixtures/payunity/oppwa-v3-query-records.json entries. */
  payunity: Record<string, unknown>[];
  /** UseePay PaymentIntent and refund objects: snake_case, amounts as JSON numbers in major units. */
  useepay: { intents: Record<string, unknown>[]; refunds: Record<string, unknown>[] };
}

/** Fixed sandbox credentials: not secrets, they only open the local simulators. */
export const DEFAULT_CREDENTIALS: SandboxCredentials = {
  payunity: {
    entityId: '8ac7a4c78e9b2f1d018e9b3a0c1d0042',
    accessToken: 'OGFjN2E0Yzc4ZTliMmYxZDAxOGU5YjNhMGMxZDAwNDI6c2FuZGJveA==',
  },
  useepay: {
    merchantNo: '500000000007245',
    appId: 'sandbox.payrecon.local',
    apiKey: 'UseePay_SK_sandbox_0123456789abcdef0123456789abcdef',
  },
};
