package api

import (
	"bytes"
	"errors"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// contentSecurityPolicy allows the web console only what it is built
// from: its own scripts, styles, images and API. No inline script or
// style, no other origin (the failover to the peer's address will add
// that address to connect-src, and nothing else).
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// Cache lifetimes: hashed asset names change with their content, so a
// browser may keep them for good; index.html names the current assets and
// must be fetched afresh (after an upgrade, or from the other appliance).
const (
	cacheImmutable  = "public, max-age=31536000, immutable"
	cacheRevalidate = "no-cache"
)

// console serves the web console for every path the route table does not
// know: the bundle's files, and index.html for the console's own routes
// (/events, /cluster: client-side routing). API and node paths keep their
// JSON 404, and only GET and HEAD are served.
func (s *Server) console(c *gin.Context) {
	p := c.Request.URL.Path
	if s.opts.Console == nil || !consolePath(c.Request.Method, p) {
		fail(c, http.StatusNotFound, "no such route: see /api/v1/cluster")
		return
	}
	name := strings.TrimPrefix(path.Clean(p), "/")
	switch {
	case name == "" || name == "index.html":
		s.consoleFile(c, "index.html", "no-store")
	case isFile(s.opts.Console, name):
		cache := cacheRevalidate
		if strings.HasPrefix(name, "assets/") {
			cache = cacheImmutable
		}
		s.consoleFile(c, name, cache)
	case strings.HasPrefix(name, "assets/") || path.Ext(name) != "":
		// A missing file is an error to show, not the console: an old
		// index.html asking for assets of another version must fail
		// loudly, and /favicon.ico is not a page.
		fail(c, http.StatusNotFound, "no such file: "+p)
	default:
		s.consoleFile(c, "index.html", "no-store")
	}
}

// consolePath says whether a request may be answered by the console.
func consolePath(method, p string) bool {
	if method != http.MethodGet && method != http.MethodHead {
		return false
	}
	for _, prefix := range []string{"/api/", "/internal/"} {
		if p+"/" == prefix || strings.HasPrefix(p, prefix) {
			return false
		}
	}
	return true
}

func isFile(fsys fs.FS, name string) bool {
	st, err := fs.Stat(fsys, name)
	return err == nil && !st.IsDir()
}

func (s *Server) consoleFile(c *gin.Context, name, cache string) {
	b, err := fs.ReadFile(s.opts.Console, name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			fail(c, http.StatusNotFound, "no such file: "+name)
			return
		}
		fail(c, http.StatusInternalServerError, "web console file "+name+": "+err.Error())
		return
	}
	c.Header("Cache-Control", cache)
	// ServeContent sets the type from the extension, answers HEAD and
	// ranges; embedded files have no modification time.
	http.ServeContent(c.Writer, c.Request, name, time.Time{}, bytes.NewReader(b))
}
