// Command evaluate scores bedrockkit's components on the shared evaluation
// data. Usage:
//
//	go run ./internal/cmd/evaluate SUITE -data DIR [flags]
//
// DIR defaults to $BEDROCKKIT_DATA, then ../shared/data. Each suite lives in its
// own file and registers itself in suites. The last line a suite prints is its
// metrics as space-separated name=value pairs.
package main

import (
	"fmt"
	"os"
	"sort"
)

// suites maps a suite name to its entry point, which gets the arguments after
// the suite name.
var suites = map[string]func(args []string) error{}

// defaultDataDir returns $BEDROCKKIT_DATA or ../shared/data.
func defaultDataDir() string {
	if d := os.Getenv("BEDROCKKIT_DATA"); d != "" {
		return d
	}
	return "../shared/data"
}

func main() {
	if len(os.Args) < 2 || suites[os.Args[1]] == nil {
		names := make([]string, 0, len(suites))
		for n := range suites {
			names = append(names, n)
		}
		sort.Strings(names)
		fmt.Fprintf(os.Stderr, "usage: go run ./internal/cmd/evaluate SUITE -data DIR\nsuites: %v\n", names)
		os.Exit(2)
	}
	if err := suites[os.Args[1]](os.Args[2:]); err != nil {
		fmt.Fprintln(os.Stderr, "evaluate:", err)
		os.Exit(1)
	}
}
