/**
 * The failure converter used while the payload codec is on: a failure's message and stack
 * trace go into `encodedAttributes`, a payload the codec encrypts, instead of staying plain
 * text in the history (they name tables, databases and, in a conflict, key values).
 * Built into the workflow bundle: it may import @temporalio/common only.
 */
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
