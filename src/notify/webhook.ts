/**
 * POSTing a notification to the webhook. The URL is a secret (a Slack or pager webhook
 * carries its token in the path): it stays in this process, and no error names it.
 */
import { ErrorType, PgTransitError } from '../errors';
import type { Notification } from '../model/notify';

/** One POST; answers under 300 are delivered, anything else is an error to retry. */
export async function postNotification(url: string, notification: Notification, signal: AbortSignal): Promise<number> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'pgtransit' },
      body: JSON.stringify({ ...notification, text: `pgtransit ${notification.migration}: ${notification.message}` }),
      signal: AbortSignal.any([signal, AbortSignal.timeout(10_000)]),
      redirect: 'error',
    });
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).name;
    throw new PgTransitError(ErrorType.Transient, `the webhook did not answer (${cause})`);
  }
  await response.body?.cancel().catch(() => undefined);
  if (response.status >= 300)
    throw new PgTransitError(ErrorType.Transient, `the webhook answered HTTP ${response.status}`);
  return response.status;
}
