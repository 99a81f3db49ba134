package ui

import (
	"io/fs"
	"strings"
	"testing"
)

// Whether or not the console is built, Bundle serves an index.html: the
// console, or the page saying how to build it.
func TestBundleHasIndex(t *testing.T) {
	fsys, built := Bundle()
	b, err := fs.ReadFile(fsys, "index.html")
	if err != nil {
		t.Fatalf("index.html: %v", err)
	}
	if !built && !strings.Contains(string(b), "make build") {
		t.Errorf("the placeholder page does not say how to build the console:\n%s", b)
	}
	if built && !strings.Contains(string(b), `type="module"`) {
		t.Errorf("the built index.html loads no module script:\n%s", b)
	}
	// No inline script or style: the CSP allows only files from 'self'.
	for _, bad := range []string{"<script>", "<style", " style="} {
		if strings.Contains(string(b), bad) {
			t.Errorf("index.html holds %q, which the Content-Security-Policy refuses", bad)
		}
	}
}
