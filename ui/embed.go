// Package ui holds mamori's web console: a TypeScript single-page
// application (src/, built by Vite into dist/bundle) embedded in the
// binary. The API server serves it; it is a client of the public REST API
// like any script. See DESIGN.md.
package ui

import (
	"embed"
	"io/fs"
)

// dist always holds README.md, so the pattern matches and the package
// compiles before the console is built; "all:" keeps files whose names
// start with "_" or "." (bundlers emit such chunks).
//
//go:embed all:dist
var dist embed.FS

// placeholder/index.html says how to build the console.
//
//go:embed placeholder
var placeholder embed.FS

// Bundle returns the built console (index.html at its root, hashed files
// under assets/) and true; or, when this binary was built without it, a
// file system holding only an index.html that says how to build it, and
// false.
func Bundle() (fs.FS, bool) {
	if sub, err := fs.Sub(dist, "dist/bundle"); err == nil {
		if _, err := fs.Stat(sub, "index.html"); err == nil {
			return sub, true
		}
	}
	sub, err := fs.Sub(placeholder, "placeholder")
	if err != nil {
		panic(err) // a constant path in an embedded tree: cannot fail
	}
	return sub, false
}
