// Runs ONNX models in ONNX Runtime's CPU runtime (the npm package onnxruntime-node), for the
// ONNX tests and bench/compare (docs/onnx.md).
//
//   node run_ort.js INPUT.f32 N,C,H,W [--repeats R] MODEL.onnx OUTPUT.f32 [MODEL OUTPUT ...]
//
// INPUT.f32 holds the float32 input (little-endian, row-major) of the given shape; each model's
// only output is written to its OUTPUT.f32 the same way. Several models share one process, as
// starting node and the runtime takes longer than running them. With --repeats, each model is
// timed R times after one warm-up and "ort_ms MODEL <median ms per run>" printed. Threads:
// NABLA_ORT_THREADS (default 1). The package is looked up from NODE_PATH (scripts/setup.sh
// installs it under build/ort).
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');

const USAGE = 'usage: node run_ort.js INPUT.f32 N,C,H,W [--repeats R] MODEL.onnx OUTPUT.f32 ...';

async function run(model, input, dims, output, repeats) {
  // One thread by default: ONNX Runtime's own pool would take every core from the other tests.
  const session = await ort.InferenceSession.create(model, {
    executionProviders: ['cpu'],
    intraOpNumThreads: Number(process.env.NABLA_ORT_THREADS || 1),
    interOpNumThreads: 1,
  });
  const feeds = {[session.inputNames[0]]: new ort.Tensor('float32', input, dims)};
  let result = await session.run(feeds);
  if (repeats > 0) {
    const times = [];
    for (let i = 0; i < repeats; ++i) {
      const start = process.hrtime.bigint();
      result = await session.run(feeds);
      times.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    times.sort((a, b) => a - b);
    console.log(`ort_ms ${model} ${times[Math.floor(times.length / 2)]}`);
  }
  const out = result[session.outputNames[0]].data;
  fs.writeFileSync(output, Buffer.from(out.buffer, out.byteOffset, out.byteLength));
}

async function main() {
  const args = process.argv.slice(2);
  const [inputPath, dimsText] = args.splice(0, 2);
  let repeats = 0;
  if (args[0] === '--repeats') repeats = Number(args.splice(0, 2)[1]);
  if (!dimsText || args.length === 0 || args.length % 2 !== 0) {
    console.error(USAGE);
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
  for (let i = 0; i < args.length; i += 2) await run(args[i], input, dims, args[i + 1], repeats);
}

main().catch((e) => {
  console.error(`run_ort.js: ${e.message}`);
  process.exit(1);
});
