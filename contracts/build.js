#!/usr/bin/env node
// Compiles every contract of ours with the pinned `solc` npm package (no download) and
// writes each folder's ABI and bytecode to contracts/<folder>/build/, the artifacts we
// commit. `--check` compiles in memory and exits 1 naming every artifact that differs
// from the committed one (contracts/tests/test_build.py runs it).
//
//   npm ci && node contracts/build.js [--check]
//
// The input is what `solcjs --bin --abi --optimize` sends from inside the folder (source
// names relative to it, optimizer on with 200 runs), so artifacts built either way are the
// same bytes. `@openzeppelin/...` imports resolve to the pinned package in node_modules.
"use strict";

const fs = require("fs");
const path = require("path");
const solc = require("solc");

const CONTRACTS = __dirname;
const NODE_MODULES = path.join(CONTRACTS, "..", "node_modules");

// Contracts we deploy must run on the development chain too: ganache 7.9 knows hardforks
// up to Shanghai, so those folders target it (solc 0.8.28 defaults to Cancun). The test
// contracts only ever run on py-evm and keep the default.
const EVM_VERSION = { pulse: "shanghai", fabric: "shanghai" };

function findImport(name) {
  if (!name.startsWith("@openzeppelin/")) {
    return { error: `not found: ${name} (only @openzeppelin/ imports are resolved)` };
  }
  const file = path.join(NODE_MODULES, name);
  if (!file.startsWith(NODE_MODULES + path.sep) || !fs.existsSync(file)) {
    return { error: `not found: ${name} (npm ci installs @openzeppelin/contracts)` };
  }
  return { contents: fs.readFileSync(file, "utf8") };
}

function hasSources(dir) {
  return fs.existsSync(dir) && fs.readdirSync(dir).some((f) => f.endsWith(".sol"));
}

function compileFolder(folder) {
  const dir = path.join(CONTRACTS, folder);
  const files = fs.readdirSync(dir).filter((name) => name.endsWith(".sol")).sort();
  const sources = {};
  for (const file of files) sources[file] = { content: fs.readFileSync(path.join(dir, file), "utf8") };
  const settings = {
    optimizer: { enabled: true, runs: 200 },
    outputSelection: { "*": { "*": ["abi", "evm.bytecode"] } },
  };
  if (EVM_VERSION[folder]) settings.evmVersion = EVM_VERSION[folder];
  const input = { language: "Solidity", settings, sources };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImport }));
  const errors = (output.errors || []).filter((error) => error.severity === "error");
  if (errors.length) {
    for (const error of errors) console.error(error.formattedMessage);
    process.exit(2);
  }
  // Only the folder's own contracts: imported library contracts are not artifacts of ours.
  const artifacts = {};
  for (const file of files) {
    for (const [name, contract] of Object.entries(output.contracts[file] || {})) {
      if (!contract.evm.bytecode.object) continue; // an interface: nothing to deploy
      const stem = `${file}:${name}`.replace(/[:./\\]/g, "_");
      artifacts[path.join(folder, "build", `${stem}.abi`)] = JSON.stringify(contract.abi);
      artifacts[path.join(folder, "build", `${stem}.bin`)] = contract.evm.bytecode.object;
    }
  }
  return artifacts;
}

function main() {
  const check = process.argv.includes("--check");
  const folders = fs
    .readdirSync(CONTRACTS, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && entry.name !== "tests")
    .map((entry) => entry.name)
    // A folder's test contracts (mocks, attackers) live in its `test/` and build to `test/build/`.
    .flatMap((folder) => [folder, path.join(folder, "test")])
    .filter((folder) => hasSources(path.join(CONTRACTS, folder)))
    .sort();
  const stale = [];
  for (const folder of folders) {
    for (const [relative, content] of Object.entries(compileFolder(folder))) {
      const file = path.join(CONTRACTS, relative);
      const committed = fs.existsSync(file) ? fs.readFileSync(file, "utf8").trim() : null;
      if (committed === content) continue;
      stale.push(relative);
      if (!check) {
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, content);
      }
    }
  }
  if (check && stale.length) {
    console.error(`stale artifacts (run \`node contracts/build.js\`): ${stale.join(", ")}`);
    process.exit(1);
  }
  console.log(check ? `artifacts up to date (solc ${solc.version()})` : `built ${stale.length} artifact(s)`);
}

main();
