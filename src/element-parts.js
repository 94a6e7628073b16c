// The wasm's later parts (what a payment under way needs: src/later.rs),
// fetched when the first part asks for them. `cargo xtask dist` cuts the
// wasm (xtask/src/split.rs) and puts this before wasm-bindgen's glue in the
// package's one function: the glue asks for the parts' loaders with
// `require`, and `files.later` lists each split point's files (by their
// content-hashed names, so a part from another build is never run with
// this one), in the order they are instantiated, with their integrity
// hashes.
//
// Each loader is `__wasm_split_load_<split point>(callback, data)`: the
// part is instantiated on the first part's memory and function table
// (which it fills in), then the first part's `callback` (an entry in that
// table) is told whether it worked. A failed load is forgotten, so the
// next ask fetches afresh; one that has not come in PATIENCE fails (a
// stalled line fails no fetch).
const require = () => {
  const PATIENCE = 30000;
  const instances = {};
  const instantiate = (file) => {
    if (instances[file.url]) return instances[file.url];
    const stop = new AbortController();
    const timer = setTimeout(() => stop.abort(), PATIENCE);
    return (instances[file.url] = WebAssembly.instantiateStreaming(
      fetch(new Request(file.url, { integrity: file.integrity, signal: stop.signal })),
      { __wasm_split: wasm_bindgen.initSync() },
    )
      .finally(() => clearTimeout(timer))
      .catch((error) => {
        delete instances[file.url];
        throw error;
      }));
  };
  const loaders = {};
  for (const point in files.later) {
    loaders["__wasm_split_load_" + point] = (callback, data) => {
      files.later[point]
        .reduce((before, file) => before.then(() => instantiate(file)), Promise.resolve())
        .then(
          () => true,
          (error) => (console.error("payment-selector: the wasm's second part did not load:", error), false),
        )
        .then((loaded) => wasm_bindgen.initSync().__indirect_function_table.get(callback)(data, loaded));
    };
  }
  return loaders;
};
