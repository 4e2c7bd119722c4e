package browser

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bedrockkit/bedrockkit/agent"
	"github.com/bedrockkit/bedrockkit/agent/browser/internal/testsite"
	"github.com/bedrockkit/bedrockkit/agent/credentials"
)

// shortTempDir returns a temporary directory with a short path: Chromium
// puts Unix sockets under TMPDIR, whose paths are limited to 108 bytes.
func shortTempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "bt")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

// processesWith returns the PIDs of processes whose command line contains
// marker (a profile directory).
func processesWith(marker string) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		if strings.Contains(string(b), marker) {
			if st, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat")); err == nil && strings.Contains(string(st), ") Z ") {
				continue // a zombie has exited
			}
			pids = append(pids, pid)
		}
	}
	return pids
}

// profileDir returns the --user-data-dir of a browser process.
func profileDir(t *testing.T, pid int) string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		t.Fatalf("read the browser's command line: %v", err)
	}
	for _, arg := range strings.Split(string(b), "\x00") {
		if dir, ok := strings.CutPrefix(arg, "--user-data-dir="); ok {
			return dir
		}
	}
	t.Fatalf("the browser has no --user-data-dir: %q", b)
	return ""
}

// waitGone waits up to 10 s for every process with marker to end.
func waitGone(t *testing.T, marker string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		pids := processesWith(marker)
		if len(pids) == 0 {
			return
		}
		if time.Now().After(deadline) {
			for _, pid := range pids {
				b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
				t.Logf("left over: %d %s", pid, strings.ReplaceAll(string(b), "\x00", " ")[:min(200, len(b))])
			}
			t.Fatalf("%d browser processes outlived their session", len(pids))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// running opens a tab and returns its profile directory, after checking
// that the browser's processes are there.
func running(t *testing.T, tb *Tab) string {
	t.Helper()
	li, ok := tb.inst.(*localInstance)
	if !ok || li.pid == 0 {
		t.Fatalf("not a local instance with a process: %T", tb.inst)
	}
	dir := profileDir(t, li.pid)
	if n := len(processesWith(dir)); n < 2 {
		t.Fatalf("%d browser processes before closing; want the browser and its helpers", n)
	}
	return dir
}

func TestBrowserProcessGoneAfterClose(t *testing.T) {
	exe := ChromiumSuite.Chromium(t)
	site := testsite.Start(t)
	tmp := shortTempDir(t)
	t.Setenv("TMPDIR", tmp) // the profile and Chromium's own temporary files go here
	tb, err := OpenTab(context.Background(), NewLocal(LocalOptions{ExecPath: exe}), Options{AllowedOrigins: []string{site.Bank.URL}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tb.Open(context.Background(), site.Bank.URL+"/fees"); err != nil {
		t.Fatal(err)
	}
	dir := running(t, tb)
	if err := tb.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitGone(t, dir)
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the profile directory is still there: %v", err)
	}
	if entries, _ := os.ReadDir(tmp); len(entries) != 0 {
		t.Fatalf("temporary files left behind: %v", entries)
	}
	if _, err := tb.ReadText(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("a closed session: %v", err)
	}
	if err := tb.Close(context.Background()); err != nil {
		t.Fatalf("closing twice: %v", err)
	}
}

func TestBrowserProcessGoneAfterContextCancel(t *testing.T) {
	exe := ChromiumSuite.Chromium(t)
	site := testsite.Start(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tb, err := OpenTab(ctx, NewLocal(LocalOptions{ExecPath: exe}), Options{AllowedOrigins: []string{site.Bank.URL}})
	if err != nil {
		t.Fatal(err)
	}
	dir := running(t, tb)
	cancel()
	waitGone(t, dir)
	deadline := time.Now().Add(10 * time.Second)
	for !tb.Closed() && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if err := tb.Close(context.Background()); err != nil || !tb.Closed() {
		t.Fatalf("the session is not closed: %v", err)
	}
}

// A context that ends while the browser starts leaves nothing behind.
func TestBrowserProcessGoneAfterCancelledLaunch(t *testing.T) {
	exe := ChromiumSuite.Chromium(t)
	tmp := shortTempDir(t)
	t.Setenv("TMPDIR", tmp) // the profile directories go here
	for _, after := range []time.Duration{0, 20 * time.Millisecond, 150 * time.Millisecond, 400 * time.Millisecond} {
		ctx, cancel := context.WithTimeout(context.Background(), after)
		inst, err := NewLocal(LocalOptions{ExecPath: exe}).Launch(ctx, LaunchRequest{})
		cancel()
		if err == nil {
			_ = inst.Close(context.Background())
		} else if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("launch cancelled after %s: %v", after, err)
		}
		waitGone(t, tmp)
		entries, _ := os.ReadDir(tmp)
		for _, e := range entries {
			sub, _ := os.ReadDir(filepath.Join(tmp, e.Name()))
			t.Logf("after %s: left %s with %d entries", after, e.Name(), len(sub))
		}
	}
	if entries, _ := os.ReadDir(tmp); len(entries) != 0 {
		t.Fatalf("profile directories left behind: %d", len(entries))
	}
}

// panicky is a credential provider that panics: a failure inside a tool.
type panicky struct{}

func (panicky) APIKey(context.Context, string) (credentials.Secret, error) {
	panic("the vault client crashed")
}

func (panicky) OAuth2Token(context.Context, credentials.TokenRequest) (credentials.Secret, error) {
	panic("the vault client crashed")
}

func TestBrowserProcessGoneAfterToolPanic(t *testing.T) {
	exe := ChromiumSuite.Chromium(t)
	site := testsite.Start(t)
	p := NewPool(NewLocal(LocalOptions{ExecPath: exe}), Options{
		AllowedOrigins: []string{site.Bank.URL},
		Credentials:    panicky{},
		Logins:         []Login{{Name: "bank", Origin: site.Bank.URL, Username: "u", Password: "p"}},
	})
	defer p.Close(context.Background())
	tools := map[string]*agent.Tool{}
	for _, tl := range p.Tools() {
		tools[tl.Name()] = tl
	}
	if _, err := tools["browser_open"].Call(context.Background(), json.RawMessage(`{"url":"`+site.Bank.URL+`/login"}`)); err != nil {
		t.Fatal(err)
	}
	tb, release, err := p.Tab(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	release()
	dir := running(t, tb)
	tree, err := tb.ReadTree(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ref := tree.Text[strings.Index(tree.Text, `textbox "Password" [ref=`)+len(`textbox "Password" [ref=`):]
	ref = ref[:strings.IndexByte(ref, ']')]
	_, err = tools["browser_sign_in"].Call(context.Background(), json.RawMessage(`{"ref":"`+ref+`","login":"bank","field":"password"}`))
	if !errors.Is(err, agent.ErrToolPanicked) {
		t.Fatalf("the panicking tool: %v", err)
	}
	waitGone(t, dir)
	if p.Len() != 0 || !tb.Closed() {
		t.Fatalf("the session survived the panic: %d open", p.Len())
	}
}

// crashChildEnv makes the test binary open a browser and die without
// cleaning up, as a crashing program would.
const crashChildEnv = "BROWSER_TEST_CRASH_CHILD"

func TestBrowserProcessGoneAfterProgramDies(t *testing.T) {
	exe := ChromiumSuite.Chromium(t)
	for _, how := range []string{"panic", "exit"} {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), crashChildEnv+"=1", "BROWSER_TEST_CRASH_HOW="+how, "BROWSER_TEST_EXE="+exe)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = nil
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		dir := ""
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if d, ok := strings.CutPrefix(sc.Text(), "PROFILE "); ok {
				dir = d
			}
			if d, ok := strings.CutPrefix(sc.Text(), "TMP "); ok {
				t.Cleanup(func() { _ = os.RemoveAll(d) }) // nobody was left to remove it
			}
		}
		err = cmd.Wait()
		if dir == "" {
			t.Fatalf("%s: the child printed no profile directory (%v)", how, err)
		}
		if err == nil {
			t.Fatalf("%s: the child exited cleanly", how)
		}
		waitGone(t, dir)
		_ = os.RemoveAll(dir) // nobody was left to remove it
	}
}

// crashChild is the child's whole run (see TestMain): start a browser,
// say where its profile is, and die without closing it.
func crashChild() {
	inst, err := NewLocal(LocalOptions{ExecPath: os.Getenv("BROWSER_TEST_EXE")}).Launch(context.Background(), LaunchRequest{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", inst.(*localInstance).pid))
	for _, arg := range strings.Split(string(b), "\x00") {
		if dir, ok := strings.CutPrefix(arg, "--user-data-dir="); ok {
			fmt.Printf("PROFILE %s\n", dir)
		}
	}
	fmt.Printf("TMP %s\n", inst.(*localInstance).tmp)
	_ = os.Stdout.Sync()
	if os.Getenv("BROWSER_TEST_CRASH_HOW") == "exit" {
		os.Exit(3)
	}
	go panic("the program crashed") // unrecovered, on another goroutine
	time.Sleep(10 * time.Second)
	os.Exit(4)
}
