// Stands in for a browser without WebAssembly SIMD (Safari before 16.4, say): every
// module fails validation, so the loader's SIMD probe fails as it would there.
WebAssembly.validate = function () {
  return false;
};
