package readmecheck

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
)

// snippet is one Go program of the README: the name in the
// <!-- readme-check: NAME --> comment before its code block, and the code.
type snippet struct {
	name, code string
}

var snippetRE = regexp.MustCompile("(?s)<!-- readme-check: ([a-z-]+) -->\\s*```go\n(.*?)```")

// readmeSnippets returns the README's checked programs and fails the test if
// any ```go block has no readme-check comment: every Go block is compiled.
func readmeSnippets(t *testing.T, readme string) []snippet {
	t.Helper()
	var out []snippet
	for _, m := range snippetRE.FindAllStringSubmatch(readme, -1) {
		out = append(out, snippet{name: m[1], code: m[2]})
	}
	if all := strings.Count(readme, "```go\n"); all != len(out) {
		t.Fatalf("README.md has %d ```go blocks but %d with a <!-- readme-check: NAME --> comment before them: every Go block must be a checked program", all, len(out))
	}
	return out
}

// check sets up what one program needs (scripted Bedrock replies, files in
// its working directory) and verifies what it printed.
type check struct {
	setup  func(t *testing.T, fake *bedrockkittest.FakeBedrock, dir string)
	verify func(t *testing.T, fake *bedrockkittest.FakeBedrock, dir, out string)
	runs   int // how many times the program is run (default 1)
}

func text(s string) bedrockkittest.Reply {
	return bedrockkittest.Reply{Message: bedrockkit.AssistantText(s), Usage: bedrockkit.Usage{InputTokens: 12, OutputTokens: 900}}
}

func contains(t *testing.T, out string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}

var checks = map[string]check{
	"stream": {
		setup: func(t *testing.T, fake *bedrockkittest.FakeBedrock, dir string) {
			fake.Enqueue(bedrockkittest.OpConverseStream, text("Bonjour tout le monde !"))
		},
		verify: func(t *testing.T, fake *bedrockkittest.FakeBedrock, dir, out string) {
			contains(t, out, "Bonjour tout le monde !\n")
		},
	},
	"knowledge-base": {
		runs: 2,
		setup: func(t *testing.T, fake *bedrockkittest.FakeBedrock, dir string) {
			files := map[string]string{
				"docs/refunds.md":                  "# Refunds\n\nWe refund a returned item to the original payment method within 5 business days of receiving it.\n",
				"docs/refunds.md.metadata.json":    `{"metadataAttributes": {"region": "eu"}}`,
				"docs/refunds-us.md":               "# Refunds in the United States\n\nA refund takes up to 10 business days in the United States.\n",
				"docs/refunds-us.md.metadata.json": `{"metadataAttributes": {"region": "us"}}`,
				"docs/shipping.md":                 "# Shipping\n\nStandard shipping takes 3 to 5 business days.\n",
			}
			for name, body := range files {
				p := filepath.Join(dir, name)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		},
		verify: func(t *testing.T, fake *bedrockkittest.FakeBedrock, dir, out string) {
			// First run: three new documents; second run: read from disk, nothing to do.
			contains(t, out, "synced: 3 new, 0 changed, 0 unchanged", "synced: 0 new, 0 changed, 3 unchanged",
				"within 5 business days", "refunds.md")
			if strings.Contains(out, "10 business days") || strings.Contains(out, "refunds-us.md") {
				t.Errorf("the region filter let the US document through:\n%s", out)
			}
			if _, err := os.Stat(filepath.Join(dir, "kb-index")); err != nil {
				t.Errorf("the index is not on disk: %v", err)
			}
		},
	},
	"agent": {
		setup: func(t *testing.T, fake *bedrockkittest.FakeBedrock, dir string) {
			fake.Enqueue(bedrockkittest.OpConverse,
				bedrockkittest.Reply{Message: bedrockkit.Message{Role: bedrockkit.RoleAssistant, Parts: []bedrockkit.Part{
					bedrockkit.ToolCall{ID: "t1", Name: "get_weather", Input: []byte(`{"city":"Lisbon"}`)},
				}}},
				text("No umbrella needed: it is 18°C and sunny in Lisbon."))
		},
		verify: func(t *testing.T, fake *bedrockkittest.FakeBedrock, dir, out string) {
			contains(t, out, "No umbrella needed")
			reqs := fake.Requests()
			if len(reqs) != 2 || !strings.Contains(string(reqs[1].Body), "18°C and sunny in Lisbon") {
				t.Errorf("the tool result did not reach the model: %d requests", len(reqs))
			}
		},
	},
	"guardrail": {
		setup: func(t *testing.T, fake *bedrockkittest.FakeBedrock, dir string) {
			fake.Enqueue(bedrockkittest.OpConverse, text("Write to sam@shop.example and a person will answer."))
		},
		verify: func(t *testing.T, fake *bedrockkittest.FakeBedrock, dir, out string) {
			contains(t, out, "Write to {EMAIL} and a person will answer.", "Sorry, I can't help with that. guardrail_intervened")
			if strings.Contains(out, "sam@shop.example") {
				t.Errorf("the e-mail address leaked:\n%s", out)
			}
			if n := fake.Calls(bedrockkittest.OpConverse); n != 1 {
				t.Errorf("the model was called %d times, want 1 (the attack must not reach it)", n)
			}
		},
	},
	"budget": {
		setup: func(t *testing.T, fake *bedrockkittest.FakeBedrock, dir string) {
			for range 6 {
				fake.Enqueue(bedrockkittest.OpConverse, text("Ledger lines at dusk"))
			}
		},
		verify: func(t *testing.T, fake *bedrockkittest.FakeBedrock, dir, out string) {
			contains(t, out, "call 1 done, spent $", "refused before reaching the model")
			if strings.Count(out, " done, spent ") != fake.Calls(bedrockkittest.OpConverse) {
				t.Errorf("calls made and calls reported differ (%d model calls):\n%s", fake.Calls(bedrockkittest.OpConverse), out)
			}
		},
	},
}

// TestREADMEPrograms compiles every Go program in README.md and runs it
// against FakeBedrock (through the standard AWS endpoint variable, so the
// program's own code is unchanged) in a scratch directory.
func TestREADMEPrograms(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the README programs")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	snippets := readmeSnippets(t, string(readme))
	seen := map[string]bool{}
	for _, s := range snippets {
		seen[s.name] = true
	}
	for name := range checks {
		if !seen[name] {
			t.Errorf("README.md has no program named %q (<!-- readme-check: %s -->)", name, name)
		}
	}
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	// The programs are built inside the module (under testdata, which
	// ./... ignores) so they use this checkout of bedrockkit.
	if err := os.MkdirAll(filepath.Join(root, "internal/readmecheck/testdata"), 0o755); err != nil {
		t.Fatal(err)
	}
	buildRoot, err := os.MkdirTemp(filepath.Join(root, "internal/readmecheck/testdata"), "build-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(buildRoot) })
	for _, s := range snippets {
		t.Run(s.name, func(t *testing.T) {
			c, ok := checks[s.name]
			if !ok {
				t.Fatalf("no check for README program %q: add one to checks", s.name)
			}
			src := filepath.Join(buildRoot, s.name, "main.go")
			if err := os.MkdirAll(filepath.Dir(src), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(src, []byte(s.code), 0o644); err != nil {
				t.Fatal(err)
			}
			bin := filepath.Join(t.TempDir(), s.name)
			build := exec.Command(goBin, "build", "-o", bin, src)
			build.Dir = root
			if msg, err := build.CombinedOutput(); err != nil {
				t.Fatalf("README program %q does not build: %v\n%s", s.name, err, msg)
			}
			fake := bedrockkittest.NewFakeBedrock(t)
			dir := t.TempDir()
			c.setup(t, fake, dir)
			runs := max(c.runs, 1)
			var all strings.Builder
			for range runs {
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
				cmd := exec.CommandContext(ctx, bin)
				cmd.Dir = dir
				cmd.Env = []string{
					"HOME=" + dir, "PATH=" + os.Getenv("PATH"),
					"AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=AKIDREADMECHECK", "AWS_SECRET_ACCESS_KEY=readme-check",
					"AWS_CONFIG_FILE=" + filepath.Join(dir, "no-aws-config"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, "no-aws-credentials"),
					"AWS_EC2_METADATA_DISABLED=true",
					"AWS_ENDPOINT_URL_BEDROCK_RUNTIME=" + fake.URL(),
				}
				var stdout, stderr bytes.Buffer
				cmd.Stdout, cmd.Stderr = &stdout, &stderr
				err := cmd.Run()
				cancel()
				if err != nil {
					t.Fatalf("README program %q failed: %v\nstdout:\n%s\nstderr:\n%s", s.name, err, stdout.String(), stderr.String())
				}
				all.Write(stdout.Bytes())
			}
			t.Logf("output:\n%s", all.String())
			c.verify(t, fake, dir, all.String())
		})
	}
}
