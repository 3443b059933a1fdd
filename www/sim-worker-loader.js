// Starts the Simulate page's worker (crates/app/src/bin/sim-worker.rs):
// Trunk builds it for wasm-bindgen's no-modules target, which a worker
// loads with importScripts, then initialises with its wasm. Both files sit
// beside this one, on the page's own origin.
importScripts("./sim-worker.js");
wasm_bindgen("./sim-worker_bg.wasm");
