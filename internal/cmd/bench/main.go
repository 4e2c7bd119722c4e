// Command bench measures bedrockkit against its peers in one run and prints
// the ratios. Usage:
//
//	go run ./internal/cmd/bench SUITE [flags]
//
// Each suite lives in its own file and registers itself in commands. The last
// line a suite prints is its metrics as space-separated name=value pairs.
package main

import (
	"fmt"
	"os"
	"sort"
)

// commands maps a suite name to its entry point, which gets the arguments
// after the suite name.
var commands = map[string]func(args []string) error{}

func main() {
	if len(os.Args) < 2 || commands[os.Args[1]] == nil {
		names := make([]string, 0, len(commands))
		for n := range commands {
			names = append(names, n)
		}
		sort.Strings(names)
		fmt.Fprintf(os.Stderr, "usage: go run ./internal/cmd/bench SUITE [flags]\nsuites: %v\n", names)
		os.Exit(2)
	}
	if err := commands[os.Args[1]](os.Args[2:]); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}
