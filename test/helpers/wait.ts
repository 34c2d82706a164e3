/** Polling helpers for end-to-end tests (they wait for states, never assert timings). */
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | null | undefined | false>,
  timeoutMs = 180_000,
  describe?: () => Promise<unknown>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${describe ? `; state: ${JSON.stringify(await describe())}` : ''}`);
    await sleep(300);
  }
}
