package codeinterp

import (
	_ "embed"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/dop251/goja"
	"github.com/dop251/goja/parser"
)

//go:embed prelude.js
var preludeSource string

// compilePrelude compiles the prelude; a *goja.Program is immutable and is
// shared by all the runtimes of one Local.
func compilePrelude() (*goja.Program, error) {
	return goja.Compile("prelude.js", preludeSource, true)
}

// exitSignal is process.exit's interrupt value.
type exitSignal struct{ code int }

// compile parses a program, refusing regular-expression literals that could
// backtrack exponentially. A syntax problem is returned as the message the
// program's author sees.
func (s *localSandbox) compile(code string) (*goja.Program, string) {
	ast, err := goja.Parse("main.js", code, parser.WithDisableSourceMaps)
	if err != nil {
		return nil, "SyntaxError: " + err.Error()
	}
	if msg := findUnsafeRegexp(ast); msg != "" {
		return nil, "SyntaxError: " + msg
	}
	prg, err := goja.CompileAST(ast, false)
	if err != nil {
		return nil, "SyntaxError: " + err.Error()
	}
	return prg, ""
}

// newRuntime builds a fresh runtime: the clock, randomness and call depth of
// the sandbox, the host functions, and the prelude.
func (s *localSandbox) newRuntime() error {
	prg, err := s.prelude()
	if err != nil {
		return fmt.Errorf("codeinterp: prelude: %w", err)
	}
	rt := goja.New()
	rt.SetMaxCallStackSize(s.opts.MaxCallDepth)
	rt.SetTimeSource(s.opts.Now)
	rng := s.rng
	rt.SetRandSource(rng.Float64)
	h := &sandboxHost{s: s, rt: rt}
	h.errCtor, _ = goja.AssertConstructor(rt.Get("Error"))
	return s.runPrelude(rt, prg, h.object())
}

// runPrelude runs the prelude, which evaluates to a setup function, gives
// it the host object, and keeps the runtime and the toJSON it returns.
func (s *localSandbox) runPrelude(rt *goja.Runtime, prg *goja.Program, host *goja.Object) error {
	v, err := rt.RunProgram(prg)
	if err != nil {
		return fmt.Errorf("codeinterp: prelude: %w", err)
	}
	setup, ok := goja.AssertFunction(v)
	if !ok {
		return errors.New("codeinterp: prelude did not evaluate to a function")
	}
	api, err := setup(goja.Undefined(), host)
	if err != nil {
		return fmt.Errorf("codeinterp: prelude: %w", err)
	}
	toJSON, ok := goja.AssertFunction(api.ToObject(rt).Get("toJSON"))
	if !ok {
		return errors.New("codeinterp: prelude returned no toJSON")
	}
	s.rt, s.toJSON = rt, toJSON
	return nil
}

// sandboxHost holds the host functions the prelude builds the program's
// console, process and fs on.
type sandboxHost struct {
	s       *localSandbox
	rt      *goja.Runtime
	errCtor goja.Constructor
}

// object returns the host object handed to the prelude: the limits and the
// host functions.
func (h *sandboxHost) object() *goja.Object {
	s := h.s
	host := h.rt.NewObject()
	set := func(name string, v any) { _ = host.Set(name, v) }
	set("maxString", s.opts.MemoryLimit/4)
	set("maxArray", s.opts.MemoryLimit/32)
	set("maxJSON", s.opts.MemoryLimit/16)
	set("maxOutput", s.opts.MaxOutput)
	set("limit", h.limit)
	set("write", h.write)
	set("exit", h.exit)
	set("regexCheck", func(src string) string { return checkRegexp(src) })
	set("jsonDepth", jsonDepth)
	set("readFile", h.readFile)
	set("fileSize", h.fileSize)
	set("writeFile", h.writeFile)
	set("exists", h.exists)
	set("removeFile", h.removeFile)
	set("listDir", h.listDir)
	return host
}

// throw raises a JavaScript Error with msg.
func (h *sandboxHost) throw(msg string) goja.Value {
	obj, err := h.errCtor(nil, h.rt.ToValue(msg))
	if err != nil {
		panic(h.rt.NewGoError(errors.New(msg)))
	}
	panic(obj)
}

// cur is the running execution's state.
func (h *sandboxHost) cur() *execState {
	if h.s.cur == nil {
		panic(h.rt.NewGoError(errors.New("codeinterp: no execution is running")))
	}
	return h.s.cur
}

func (h *sandboxHost) limit(kind, detail string) goja.Value {
	h.cur().limitHit(h.rt, &LimitError{Limit: Limit(kind), Detail: detail})
	return goja.Undefined()
}

// write appends text to stdout (or stderr for stream 2) within the output
// budget, cutting it on a rune start when the budget runs out.
func (h *sandboxHost) write(stream int, text string) goja.Value {
	st := h.cur()
	if len(text) > st.budget {
		cut := st.budget
		for cut > 0 && !utf8.RuneStart(text[cut]) {
			cut--
		}
		text = text[:cut]
		st.truncated = true
	}
	st.budget -= len(text)
	if stream == 2 {
		st.errOut.WriteString(text)
	} else {
		st.out.WriteString(text)
	}
	if st.truncated {
		st.limitHit(h.rt, &LimitError{Limit: LimitOutput, Detail: fmt.Sprintf("the program printed more than %d bytes: print summaries or the first rows, or write full results to a file", h.s.opts.MaxOutput)})
	}
	return goja.Undefined()
}

func (h *sandboxHost) exit(code int) goja.Value {
	h.rt.Interrupt(exitSignal{code})
	return goja.Undefined()
}

func (h *sandboxHost) readFile(p string) string {
	b, _, err := h.s.files.read(p)
	if err != nil {
		h.throw("ENOENT: no such file or directory, open '" + p + "'")
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

func (h *sandboxHost) fileSize(p string) int64 {
	key, err := cleanPath(p)
	if err != nil {
		h.throw(err.Error())
	}
	b, ok := h.s.files.files[key]
	if !ok {
		h.throw("ENOENT: no such file or directory, stat '" + p + "'")
	}
	return int64(len(b))
}

// writeFile writes (or appends to) a file within the sandbox's file space.
func (h *sandboxHost) writeFile(p, data string, appendTo bool) goja.Value {
	s, st := h.s, h.cur()
	content := []byte(data)
	if appendTo {
		if key, err := cleanPath(p); err == nil {
			if old, ok := s.files.files[key]; ok {
				if int64(len(old)+len(data)) > s.opts.MaxFileSpace {
					st.limitHit(h.rt, &LimitError{Limit: LimitSize, Detail: fmt.Sprintf("appending to %s would pass the %d bytes the sandbox's files may hold", key, s.opts.MaxFileSpace)})
					return goja.Undefined()
				}
				content = append(slices.Clip(old), data...)
			}
		}
	}
	if err := s.files.write(p, content); err != nil {
		var le *LimitError
		if errors.As(err, &le) {
			st.limitHit(h.rt, le)
			return goja.Undefined()
		}
		h.throw(err.Error())
	}
	key, _ := cleanPath(p)
	st.changed[key] = true
	return goja.Undefined()
}

// exists reports whether p is a file or a directory holding files.
func (h *sandboxHost) exists(p string) bool {
	key, err := cleanPath(p)
	if err != nil {
		return false
	}
	if _, ok := h.s.files.files[key]; ok {
		return true
	}
	for k := range h.s.files.files {
		if strings.HasPrefix(k, key+"/") {
			return true
		}
	}
	return false
}

func (h *sandboxHost) removeFile(p string) goja.Value {
	ok, err := h.s.files.remove(p)
	if err != nil {
		h.throw(err.Error())
	}
	if !ok {
		h.throw("ENOENT: no such file or directory, unlink '" + p + "'")
	}
	return goja.Undefined()
}

// listDir lists the names (files and directories) directly under dir.
func (h *sandboxHost) listDir(dir string) []string {
	prefix := ""
	if key, err := cleanPath(dir); err == nil {
		prefix = key + "/"
	}
	var out []string
	for _, k := range h.s.files.names(0) {
		if !strings.HasPrefix(k, prefix) {
			continue
		}
		name, _, _ := strings.Cut(k[len(prefix):], "/")
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	if out == nil {
		out = []string{}
	}
	return out
}

// jsonDepth returns the deepest nesting of arrays and objects in a JSON
// text, skipping strings; it does not validate.
func jsonDepth(s string) int {
	depth, most := 0, 0
	in := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if in {
			switch c {
			case '\\':
				i++
			case '"':
				in = false
			}
			continue
		}
		switch c {
		case '"':
			in = true
		case '[', '{':
			depth++
			if depth > most {
				most = depth
			}
		case ']', '}':
			depth--
		}
	}
	return most
}
