#!/usr/bin/env node
// Runs an ONNX model (such as `ptrain export` writes) in onnxruntime-node
// on one thread.
//
//   node run.js MODEL.onnx ROWS.csv       one line of outputs per row, as
//                                         `ptrain predict` prints them after
//                                         its class column (9 digits)
//   node run.js MODEL.onnx -bench BATCH   rows per second at that batch size
//
// ROWS.csv holds raw feature rows, comma-separated, as `ptrain predict`
// reads them (images as C*H*W values in C, H, W order); a first line that
// is not numbers is a header and skipped. The input's shape comes from the
// model: its first input, with the batch dimension symbolic.
//
// Install: ONNXRUNTIME_NODE_INSTALL=skip npm ci (in this directory; the
// variable skips a GPU build's download, the CPU library is in the package).
"use strict";
const fs = require("fs");
const ort = require("onnxruntime-node");

function fail(msg) {
  process.stderr.write(`run.js: ${msg}\n`);
  process.exit(1);
}

function readRows(path) {
  const rows = [];
  fs.readFileSync(path, "utf8").split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === "") return;
    // An empty cell or NaN is a missing value: NaN, which a table's
    // imputation nodes fill. Number("") would be 0.
    const cells = line.split(",").map((s) => s.trim());
    if (cells.some((s) => s !== "" && s !== "NaN" && Number.isNaN(Number(s)))) {
      if (i === 0) return; // a header
      fail(`${path}:${i + 1}: not a row of numbers`);
    }
    const vals = cells.map((s) => (s === "" ? NaN : Number(s)));
    rows.push(vals);
  });
  return rows;
}

async function main() {
  const [modelPath, arg, batchArg] = process.argv.slice(2);
  if (!modelPath || !arg) fail("usage: node run.js MODEL.onnx ROWS.csv | node run.js MODEL.onnx -bench BATCH");
  const session = await ort.InferenceSession.create(modelPath, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: "sequential",
    graphOptimizationLevel: "all",
  });
  const input = session.inputNames[0];
  const meta = session.inputMetadata[0];
  const sample = meta.shape.slice(1).map(Number); // dims after the batch
  const width = sample.reduce((a, b) => a * b, 1);
  if (!(width > 0)) fail(`${modelPath}: input ${input} has shape ${meta.shape}: want [batch, ...] with fixed sample dims`);
  const run = async (x, n) => {
    const out = await session.run({ [input]: new ort.Tensor("float32", x, [n, ...sample]) });
    return out[session.outputNames[0]];
  };
  if (arg === "-bench") {
    const n = Number(batchArg);
    if (!(n >= 1)) fail("-bench BATCH: want a batch size ≥ 1");
    const x = new Float32Array(n * width);
    for (let i = 0; i < x.length; i++) x[i] = (i * 7919) % 17;
    let rows = 0;
    let t0 = process.hrtime.bigint();
    for (let i = 0; i < 3; i++) await run(x, n); // warm up
    t0 = process.hrtime.bigint();
    let elapsed = 0;
    while (elapsed < 2) {
      await run(x, n);
      rows += n;
      elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
    }
    console.log(`batch ${n}: ${(rows / elapsed).toFixed(0)} rows/s (${rows} rows in ${elapsed.toFixed(2)} s, one thread)`);
    return;
  }
  const rows = readRows(arg);
  if (rows.length === 0) return;
  const x = new Float32Array(rows.length * width);
  rows.forEach((r, i) => {
    if (r.length !== width) fail(`${arg}: row ${i + 1} has ${r.length} values, the model takes ${width}`);
    x.set(r, i * width);
  });
  const y = await run(x, rows.length);
  const k = y.data.length / rows.length;
  for (let i = 0; i < rows.length; i++) {
    console.log(Array.from(y.data.slice(i * k, (i + 1) * k), (v) => v.toPrecision(9)).join(","));
  }
}

main().catch((e) => fail(e.message || String(e)));
