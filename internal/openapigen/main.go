// Command openapigen writes the web console's API types
// (ui/src/api/types.gen.ts) from the OpenAPI document of the route table:
// `make openapi` runs it from the repository's root.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/mamori-ops/mamori/api"
)

func main() {
	out := flag.String("o", api.TypesFile, "file to write")
	doc := flag.String("doc", "", "also write the OpenAPI document to this file")
	flag.Parse()
	ts, err := api.OpenAPITypeScript()
	if err != nil {
		fmt.Fprintln(os.Stderr, "openapigen:", err)
		os.Exit(1)
	}
	if err := os.WriteFile(*out, []byte(ts), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "openapigen:", err)
		os.Exit(1)
	}
	if *doc != "" {
		b, _, _ := api.OpenAPI()
		if err := os.WriteFile(*doc, b, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "openapigen:", err)
			os.Exit(1)
		}
	}
}
