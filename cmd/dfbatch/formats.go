package main

// The CLI reads and writes every format frame knows, Parquet included:
// frame links Parquet in only for programs that import its package.
import _ "github.com/dfbatch/dfbatch/frame/parquet"
