import { plugin } from "bun";

/**
 * dockerode (through docker-modem) loads ssh2 and gRPC/protobuf eagerly, for `ssh://` hosts and
 * BuildKit sessions that seelie never uses (engineClient() accepts only unix://, tcp://, http(s)://);
 * they add a few hundred milliseconds to every command that talks to an engine. This replaces them
 * with empty modules. Call once, from an entry point, before anything imports dockerode.
 */
export function useLeanEngineModules(): void {
  plugin({
    name: "seelie-lean-engine-modules",
    setup(build) {
      for (const name of ["ssh2", "@grpc/grpc-js", "@grpc/proto-loader", "protobufjs"]) {
        build.module(name, () => ({ exports: {}, loader: "object" }));
      }
    },
  });
}
