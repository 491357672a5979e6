/**
 * The S3 client, configured from the standard AWS environment and loaded
 * only when an `s3://` path is used (the SDK takes ~100 ms to import; local
 * runs never pay for it):
 *
 * - endpoint: `AWS_ENDPOINT_URL_S3`, else `AWS_ENDPOINT_URL` (MinIO, R2,
 *   Ceph, a local test server); with an endpoint, path-style addressing
 *   (`http://host/bucket/key`), which every S3-compatible server accepts;
 * - region: `AWS_REGION`, else `AWS_DEFAULT_REGION`, else us-east-1;
 * - credentials: the SDK's default chain (`AWS_ACCESS_KEY_ID` /
 *   `AWS_SECRET_ACCESS_KEY`, `AWS_PROFILE` and ~/.aws, SSO, web identity,
 *   container and instance roles).
 *
 * Checksums: recpost checks every part's SHA-256 itself, so the SDK adds its
 * own request checksums only where an operation requires them (servers that
 * predate the SDK's default CRC32 trailers reject those), unless the user
 * set `AWS_REQUEST_CHECKSUM_CALCULATION` / `AWS_RESPONSE_CHECKSUM_VALIDATION`.
 */
import type { S3Client } from '@aws-sdk/client-s3';

export type S3Sdk = typeof import('@aws-sdk/client-s3');

export interface S3Handle {
  sdk: S3Sdk;
  client: S3Client;
  /** The endpoint in use, for messages ("AWS" when none is configured). */
  endpoint: string;
}

/** The environment the client is built from (one client per distinct environment). */
function clientEnv(): { endpoint?: string; region: string } {
  const endpoint = process.env.AWS_ENDPOINT_URL_S3 || process.env.AWS_ENDPOINT_URL || undefined;
  const region = process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || 'us-east-1';
  return { ...(endpoint ? { endpoint } : {}), region };
}

let cached: { key: string; handle: Promise<S3Handle> } | undefined;

/** The client for the current environment (created at the first call, reused while the environment is the same). */
export function s3Handle(): Promise<S3Handle> {
  const env = clientEnv();
  const key = JSON.stringify([env, process.env.AWS_ACCESS_KEY_ID ?? '', process.env.AWS_PROFILE ?? '']);
  if (cached?.key === key) return cached.handle;
  // The SDK warns on stderr about Node 20's end of support at its first client; the user may still ask for the warning.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const handle = import('@aws-sdk/client-s3').then((sdk) => {
    const client = new sdk.S3Client({
      region: env.region,
      ...(env.endpoint ? { endpoint: env.endpoint, forcePathStyle: true } : {}),
      ...(process.env.AWS_REQUEST_CHECKSUM_CALCULATION ? {} : { requestChecksumCalculation: 'WHEN_REQUIRED' as const }),
      ...(process.env.AWS_RESPONSE_CHECKSUM_VALIDATION ? {} : { responseChecksumValidation: 'WHEN_REQUIRED' as const }),
    });
    return { sdk, client, endpoint: env.endpoint ?? 'AWS' };
  });
  cached = { key, handle };
  return handle;
}
