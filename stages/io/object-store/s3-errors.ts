/**
 * What the object store answered, as one line naming the s3:// path and the
 * operation. The user's side of a failure — no such bucket or key, no or
 * wrong credentials, access denied, an endpoint that cannot be reached — is
 * an ObjectStoreError (a DatasetError: the CLI prints it and exits 2); the
 * store's own trouble (5xx, throttling) stays a plain Error (exit 1).
 */
import { DatasetError } from '../manifest.js';

/** A user-facing object-store problem: one line starting with the s3:// path, exit code 2. */
export class ObjectStoreError extends DatasetError {
  constructor(message: string) {
    super(message);
    this.name = 'ObjectStoreError';
  }
}

const HINTS: Record<string, string> = {
  NoSuchBucket: 'the bucket does not exist: create it, or check the bucket name and AWS_ENDPOINT_URL',
  NoSuchKey: 'no such object',
  NotFound: 'no such object',
  AccessDenied: 'access denied: the credentials in use may not do this here',
  Forbidden: 'access denied: the credentials in use may not do this here',
  InvalidAccessKeyId: 'the store does not know the access key: check AWS_ACCESS_KEY_ID (or AWS_PROFILE)',
  SignatureDoesNotMatch: 'the secret key does not match the access key: check AWS_SECRET_ACCESS_KEY',
  ExpiredToken: 'the session token has expired: renew the credentials',
  InvalidToken: 'the session token is not valid: check AWS_SESSION_TOKEN',
  CredentialsProviderError: 'no credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE',
  InvalidBucketName: 'the bucket name is not valid',
  PermanentRedirect: 'the bucket is in another region or behind another endpoint: set AWS_REGION (or AWS_ENDPOINT_URL)',
  AuthorizationHeaderMalformed: 'the request was signed for the wrong region: set AWS_REGION to the bucket region',
};

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET', 'EHOSTUNREACH', 'ETIMEDOUT']);

/** An error thrown by an S3 call, as one line: `<s3 url>: <operation> failed: <why>`. */
export function storeError(e: unknown, url: string, operation: string, endpoint: string): Error {
  if (e instanceof DatasetError) return e;
  const err = e as { name?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const name = err.name ?? 'Error';
  const status = err.$metadata?.httpStatusCode;
  const first = (err.message ?? String(e)).split('\n')[0]!;
  const code = err.code ?? (/\b(E[A-Z]{4,})\b/.exec(first)?.[1] as string | undefined);
  if (code && UNREACHABLE.has(code))
    return new ObjectStoreError(`${url}: ${operation} failed: cannot reach the object store at ${endpoint} (${code}); check AWS_ENDPOINT_URL`);
  const hint = HINTS[name] ?? (status === 404 ? 'not found' : status === 403 ? 'access denied' : undefined);
  if (hint !== undefined) return new ObjectStoreError(`${url}: ${operation} failed: ${name}: ${hint}`);
  return new Error(`${url}: ${operation} failed: ${name}${status ? ` (HTTP ${status})` : ''}: ${first}`);
}
