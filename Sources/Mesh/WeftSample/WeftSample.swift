// WeftSample: the demo shop's services (front page, details, reviews v1/v2/v3, ratings, load generator), on
// WeftHTTPServer and WeftHTTPClient. `weft sample ROLE` runs one (so `weft demo` needs the `weft` binary alone);
// the `weft-sample ROLE` executable is the same, for mesh files written before. It knows nothing of Weft's
// internals: like any app on the mesh, it reads its environment and calls through HTTP_PROXY.
//   front    the front page (HTML at /, JSON at /api); calls details and reviews through its sidecar
//   details  a book's details
//   reviews  v1: reviews only; v2: with black star ratings; v3: with red star ratings (v2 and v3 call ratings)
//   ratings  star ratings
//   loadgen  steady traffic to the front page (WEFT_LOAD_URL, WEFT_LOAD_RPS), with a summary every 10 s
// Each service listens on WEFT_LISTEN (or 127.0.0.1:$PORT) and reaches the others through HTTP_PROXY.
