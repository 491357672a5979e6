/** A local S3 server (s3rver) for the tests, and the AWS environment that points recpost at it. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import S3rver from 's3rver';

export interface LocalS3 {
  /** AWS_* variables for recpost (this process gets them too). */
  env: Record<string, string>;
  /** The server's files (s3rver keeps objects under <dir>/<bucket>/<key>._S3rver_object). */
  dir: string;
  close(): Promise<void>;
}

/** Start s3rver on a free port with `buckets` created, and point this process's AWS environment at it. */
export async function startLocalS3(buckets: string[]): Promise<LocalS3> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recpost-s3rver-'));
  const srv = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: dir, configureBuckets: buckets.map((name) => ({ name })) });
  const { port } = await srv.run();
  const env = {
    AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`,
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    AWS_REGION: 'us-east-1',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  Object.assign(process.env, env);
  return {
    env,
    dir,
    async close() {
      await srv.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
