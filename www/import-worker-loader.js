// Starts the Import page's worker (crates/app/src/bin/import-worker.rs):
// Trunk builds it for wasm-bindgen's no-modules target, which a worker
// loads with importScripts, then initialises with its wasm. Both files sit
// beside this one, on the page's own origin.
importScripts("./import-worker.js");
wasm_bindgen("./import-worker_bg.wasm");
