package codeinterptest_test

import (
	"fmt"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/bedrockkit/bedrockkit/agent/codeinterp/codeinterptest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestCodeInterpTaskCorrect(t *testing.T) {
	task := codeinterptest.Task{Want: "12.50"}
	for out, want := range map[string]bool{
		"12.50\n":               true,
		"debug\n12.5\n\n":       true, // numbers compare as numbers
		"12.5000000001":         true,
		"12.51":                 false,
		"12.50 USD":             false,
		"":                      false,
		"12.50\nsomething else": false, // only the last line counts
	} {
		if got := task.Correct(out); got != want {
			t.Errorf("Correct(%q) = %v, want %v", out, got, want)
		}
	}
	j := codeinterptest.Task{Want: `{"a": 1.0, "b": [1, 2]}`}
	if !j.Correct(`{"b":[1,2],"a":1}`) || j.Correct(`{"a":1,"b":[2,1]}`) {
		t.Error("JSON answers compare by value")
	}
}

func TestCodeInterpTaskSetIsWellFormed(t *testing.T) {
	seen := map[string]bool{}
	tasks := codeinterptest.Tasks()
	if len(tasks) < 40 {
		t.Fatalf("only %d tasks", len(tasks))
	}
	for _, task := range tasks {
		if seen[task.Name] || task.JS == "" || task.Python == "" || strings.TrimSpace(task.Want) == "" {
			t.Errorf("task %q: duplicate or incomplete", task.Name)
		}
		seen[task.Name] = true
	}
	for _, a := range codeinterptest.Attacks() {
		if (a.Limit == "" && !a.AnyLimit) == (a.ErrorContains == "") {
			t.Errorf("attack %q must expect either a limit or an error", a.Name)
		}
	}
}

func ExampleTasks() {
	tasks := codeinterptest.Tasks()
	fmt.Println(tasks[0].Name, "->", tasks[0].Want)
	// Output: sum of amounts -> Total: 571.49
}
