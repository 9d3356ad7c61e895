/**
 * A real S3-protocol server for tests: `moto_server` on 127.0.0.1 and a free port, with a bucket.
 */
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { freePort } from "../net.ts";

export interface S3Server {
  endpoint: string;
  bucket: string;
  stop(): Promise<void>;
}

/** Starts moto_server (on PATH, or MOTO_SERVER) and creates `bucket`. */
export async function startS3(bucket = "driftflow-test"): Promise<S3Server> {
  const port = freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(Deno.env.get("MOTO_SERVER") ?? "moto_server", {
      args: ["-H", "127.0.0.1", "-p", String(port)],
      stdout: "null",
      stderr: "null",
    }).spawn();
  } catch (e) {
    throw new Error(
      `cannot start moto_server (an S3-protocol server for tests; pip install 'moto[server]'): ${e}`,
    );
  }
  for (let i = 0; i < 100; i++) {
    try {
      await (await fetch(endpoint)).body?.cancel();
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const client = new S3Client({
    endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
  });
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  return {
    endpoint,
    bucket,
    async stop() {
      child.kill("SIGTERM");
      await child.status;
    },
  };
}
