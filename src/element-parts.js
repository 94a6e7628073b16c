// The wasm's later parts, fetched when the first part asks for them: the
// checkout's view (src/element/drawn.rs), as soon as the first part is in,
// and what a payment under way needs (src/later.rs), once the checkout is
// drawn; with a chunk of code the two share. `cargo xtask dist` cuts the
// wasm (xtask/src/split.rs) and puts this before wasm-bindgen's glue in the
// package's one function: the glue asks for the parts' loaders with
// `require`, and `files.later` lists each split point's files (by their
// content-hashed names, so a part from another build is never run with
// this one), in the order they are instantiated, with their integrity
// hashes.
//
// Each loader is `__wasm_split_load_<split point>(callback, data)`: its
// files are fetched and compiled all at once, then instantiated in order on
// the first part's memory and function table (which they fill in), each
// once; then the first part's `callback` (an entry in that table) is told
// whether it worked. A failed file is forgotten, so the next ask fetches it
// afresh; one that has not come in PATIENCE fails (a stalled line fails no
// fetch). `laterParts.prefetch(point)` fetches and compiles a split point's
// files before the first part asks (the loader does for the view when no
// first screen is on the page: nothing can be used before it anyway).
const laterParts = (() => {
  const PATIENCE = 30000;
  const compiled = {};
  const instances = {};
  const forgetting = (cache, url) => (error) => {
    delete cache[url];
    throw error;
  };
  const compile = (file) => {
    if (compiled[file.url]) return compiled[file.url];
    const stop = new AbortController();
    const timer = setTimeout(() => stop.abort(), PATIENCE);
    return (compiled[file.url] = WebAssembly.compileStreaming(
      fetch(new Request(file.url, { integrity: file.integrity, signal: stop.signal })),
    )
      .finally(() => clearTimeout(timer))
      .catch(forgetting(compiled, file.url)));
  };
  const instantiate = (file) => {
    if (instances[file.url]) return instances[file.url];
    return (instances[file.url] = compile(file)
      .then((module) => WebAssembly.instantiate(module, { __wasm_split: wasm_bindgen.initSync() }))
      .catch(forgetting(instances, file.url)));
  };
  // Fetched ahead of its turn, a file's failure is reported when its turn
  // comes (or is not, when one before it failed), not as the page's.
  const prefetch = (point) => files.later[point].forEach((file) => compile(file).catch(() => {}));
  const loaders = {};
  for (const point in files.later) {
    loaders["__wasm_split_load_" + point] = (callback, data) => {
      prefetch(point);
      files.later[point]
        .reduce((before, file) => before.then(() => instantiate(file)), Promise.resolve())
        .then(
          () => true,
          (error) => (console.error("payment-selector: a later part of the wasm did not load:", error), false),
        )
        .then((loaded) => wasm_bindgen.initSync().__indirect_function_table.get(callback)(data, loaded));
    };
  }
  return { loaders, prefetch };
})();
const require = () => laterParts.loaders;
