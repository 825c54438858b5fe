// Runs an ONNX model in ONNX Runtime's CPU runtime (the npm package onnxruntime-node), for the
// ONNX tests and bench/compare (docs/onnx.md).
//
//   node run_ort.js MODEL.onnx INPUT.f32 OUTPUT.f32 N,C,H,W [REPEATS]
//
// INPUT.f32 holds the float32 input (little-endian, row-major) of the given shape; the graph's
// only output is written to OUTPUT.f32 the same way. With REPEATS, the run is timed that many
// times after one warm-up and the median milliseconds per run is printed as "ort_ms <value>".
// The package is looked up from NODE_PATH (scripts/setup.sh installs it under build/ort).
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');

async function main() {
  const [model, inputPath, outputPath, dimsText, repeatsText] = process.argv.slice(2);
  if (!dimsText) {
    console.error('usage: node run_ort.js MODEL.onnx INPUT.f32 OUTPUT.f32 N,C,H,W [REPEATS]');
    process.exit(2);
  }
  const dims = dimsText.split(',').map(Number);
  const bytes = fs.readFileSync(inputPath);
  const input = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
  const expected = dims.reduce((a, b) => a * b, 1);
  if (input.length !== expected) {
    console.error(`${inputPath}: ${input.length} floats for shape [${dims}] (${expected})`);
    process.exit(1);
  }
  // One thread: ONNX Runtime's default pool would take every core from the other tests.
  const threads = Number(process.env.NABLA_ORT_THREADS || 1);
  const session = await ort.InferenceSession.create(model, {
    executionProviders: ['cpu'],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
  });
  const feeds = {[session.inputNames[0]]: new ort.Tensor('float32', input, dims)};
  let result = await session.run(feeds);
  const repeats = Number(repeatsText || 0);
  if (repeats > 0) {
    const times = [];
    for (let i = 0; i < repeats; ++i) {
      const start = process.hrtime.bigint();
      result = await session.run(feeds);
      times.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    times.sort((a, b) => a - b);
    console.log(`ort_ms ${times[Math.floor(times.length / 2)]}`);
  }
  const out = result[session.outputNames[0]].data;
  fs.writeFileSync(outputPath, Buffer.from(out.buffer, out.byteOffset, out.byteLength));
}

main().catch((e) => {
  console.error(`run_ort.js: ${e.message}`);
  process.exit(1);
});
