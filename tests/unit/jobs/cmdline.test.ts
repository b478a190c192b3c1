import { expect, test } from "bun:test";
import { formatNumber, shellQuote, submitCommand } from "../../../lib/jobs/cmdline.ts";
import { isSecretKey } from "../../../lib/jobs/types.ts";
import { parseJobSpec } from "../../../lib/jobs/validate.ts";

test.each([
  ["plain", "plain"],
  ["a-b_c.d/e:f@g%h+i=j,k", "a-b_c.d/e:f@g%h+i=j,k"],
  ["", "''"],
  ["a b", "'a b'"],
  ["it's", "'it'\\''s'"],
  ["$HOME", "'$HOME'"],
  ["`id`", "'`id`'"],
  ["a\nb", "'a\nb'"],
  ["tab\there", "'tab\there'"],
  ["back\\slash", "'back\\slash'"],
  ["日本", "'日本'"],
  ["'", "''\\'''"],
])("shellQuote(%j) = %j", (input, want) => {
  expect(shellQuote(input)).toBe(want);
});

test("formatNumber never uses exponent notation", () => {
  expect(formatNumber(2)).toBe("2");
  expect(formatNumber(0.5)).toBe("0.5");
  expect(formatNumber(0.000001)).toBe("0.000001");
  expect(formatNumber(1000000)).toBe("1000000");
});

const example = parseJobSpec({
  name: "test job",
  description: "submit by seelie cli",
  cluster: "dev",
  namespace: "default",
  cpu: "2",
  memory: "8",
  gpu: "0",
  workerCount: "1",
  image: "registry.cn-shanghai.aliyuncs.com/shuaiyy/mihoyo-ai:tf2.4.3-gpu-jupyter-lab",
  entrypointType: "bash -c",
  entrypoint: "sleep 10m; echo failed; exit 1",
  env: ["enable_ema=1"],
});

test("the SPEC example comes back as the SPEC wrote it (flag order, quoting only where needed)", () => {
  expect(submitCommand(example).command).toBe(
    "seelie submit tfjob --name 'test job' --description 'submit by seelie cli' --cluster dev --namespace default --cpu 2 --memory 8 --gpu 0 --worker-count 1 " +
      "--image registry.cn-shanghai.aliyuncs.com/shuaiyy/mihoyo-ai:tf2.4.3-gpu-jupyter-lab --entrypoint-type 'bash -c' --entrypoint 'sleep 10m; echo failed; exit 1' -E enable_ema=1",
  );
});

test("values starting with - use --flag=value; -E values keep = and newlines", () => {
  const spec = { ...example, name: "-x", description: "", entrypoint: "--help", env: [{ name: "A", value: "b=c\nd" }] };
  const { command } = submitCommand(spec);
  expect(command).toContain("--name=-x ");
  expect(command).toContain("--description '' ");
  expect(command).toContain("--entrypoint=--help ");
  expect(command).toContain("-E 'A=b=c\nd'");
});

test("secret-looking keys become ${KEY} references unless showSecrets", () => {
  const spec = {
    ...example,
    env: [
      { name: "API_TOKEN", value: "x'y" },
      { name: "lr", value: "1" },
      { name: "API_TOKEN", value: "z" },
    ],
  };
  const hidden = submitCommand(spec);
  expect(hidden.command).toEndWith(`-E API_TOKEN="\${API_TOKEN}" -E lr=1 -E API_TOKEN="\${API_TOKEN}"`);
  expect(hidden.hiddenKeys).toEqual(["API_TOKEN"]);
  const shown = submitCommand(spec, { showSecrets: true });
  expect(shown.command).toEndWith(`-E 'API_TOKEN=x'\\''y' -E lr=1 -E API_TOKEN=z`);
  expect(shown.hiddenKeys).toEqual([]);
});

test.each([
  ["PASSWORD", true],
  ["DB_PASSWORD", true],
  ["db_password", true],
  ["dbPassword", true],
  ["GITHUB_TOKEN", true],
  ["AWS_SECRET_ACCESS_KEY", true],
  ["API_KEY", true],
  ["apiKey", true],
  ["MY_CREDENTIALS", true],
  ["enable_ema", false],
  ["MONKEY", false],
  ["KEYBOARD_LAYOUT", false],
  ["TOKENIZER", false],
  ["LR", false],
])("isSecretKey(%s) = %p", (key, want) => {
  expect(isSecretKey(key)).toBe(want);
});
