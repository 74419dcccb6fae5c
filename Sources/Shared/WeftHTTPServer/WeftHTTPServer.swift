// WeftHTTPServer: a small HTTP/1.1 server for JSON and text endpoints off the data path: the control
// plane's API and the proxy's admin page. Each request is answered by an async closure.
