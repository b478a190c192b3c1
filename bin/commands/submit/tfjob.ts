import { type ArgsDef, defineCommand } from "citty";
import { JOB_DEFAULTS } from "../../../lib/jobs/validate.ts";
import { log } from "../../../lib/log.ts";
import { clusterArg, imageArg } from "../_args.ts";
import { interruptSignal, outputArg, outputFormat, printData, rejectUnknownFlags, repeated } from "../_cli.ts";

const args = {
  name: { type: "string", description: "job name (free text)" },
  description: { type: "string", description: "what the job is for" },
  cluster: { ...clusterArg.cluster, description: "local (the local Docker engine) or a kubeconfig context", default: JOB_DEFAULTS.cluster },
  namespace: { type: "string", description: "Kubernetes namespace of the TFJob", default: JOB_DEFAULTS.namespace },
  cpu: { type: "string", description: "CPU cores per worker (fractions allowed)", default: JOB_DEFAULTS.cpu },
  memory: { type: "string", description: "memory per worker, GiB", default: JOB_DEFAULTS.memory },
  gpu: { type: "string", description: "GPUs per worker", default: JOB_DEFAULTS.gpu },
  worker_count: { type: "string", description: "number of workers", default: JOB_DEFAULTS.workerCount },
  image: { ...imageArg.image, description: "image the workers run" },
  entrypoint_type: { type: "string", description: "words before the entrypoint", default: JOB_DEFAULTS.entrypointType },
  entrypoint: { type: "string", description: "command the workers run (one argument after --entrypoint-type)" },
  env: { type: "string", alias: "E", description: "KEY=VALUE environment variable (repeatable, order kept)" },
  record_only: { type: "boolean", description: "record the job without starting it (status Recorded; for scripts and tests)" },
  ...outputArg,
} as const satisfies ArgsDef;

/** `seelie submit tfjob`: records a job with a new id and runs it locally or as a Kubeflow TFJob. */
export default defineCommand({
  meta: { name: "tfjob", description: "Submit a TensorFlow job: local Docker workers, or a Kubeflow TFJob in a kubeconfig context" },
  args,
  async run({ args: a, rawArgs }) {
    rejectUnknownFlags(rawArgs, args);
    const format = outputFormat(a.output, ["text", "json"] as const);
    const { runSubmitTfJob } = await import("../../../lib/jobs/submit.ts");
    const submitted = await runSubmitTfJob(
      {
        options: {
          name: a.name,
          description: a.description,
          cluster: a.cluster,
          namespace: a.namespace,
          cpu: a.cpu,
          memory: a.memory,
          gpu: a.gpu,
          workerCount: a.worker_count,
          image: a.image,
          entrypointType: a.entrypoint_type,
          entrypoint: a.entrypoint,
          env: repeated(rawArgs, ["-E", "--env"]),
        },
        recordOnly: a.record_only === true,
      },
      { env: process.env, signal: interruptSignal() },
    );
    log.success(submitted.summary);
    printData(format === "json" ? submitted.document : submitted.text, format);
  },
});
