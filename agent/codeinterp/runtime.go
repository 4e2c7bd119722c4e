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
	errCtor, _ := goja.AssertConstructor(rt.Get("Error"))
	throw := func(msg string) goja.Value {
		obj, err := errCtor(nil, rt.ToValue(msg))
		if err != nil {
			panic(rt.NewGoError(errors.New(msg)))
		}
		panic(obj)
	}
	cur := func() *execState {
		if s.cur == nil {
			panic(rt.NewGoError(errors.New("codeinterp: no execution is running")))
		}
		return s.cur
	}
	maxString := s.opts.MemoryLimit / 4
	host := rt.NewObject()
	set := func(name string, v any) { _ = host.Set(name, v) }
	set("maxString", maxString)
	set("maxArray", s.opts.MemoryLimit/32)
	set("maxJSON", s.opts.MemoryLimit/16)
	set("maxOutput", s.opts.MaxOutput)
	set("limit", func(kind, detail string) goja.Value {
		cur().limitHit(rt, &LimitError{Limit: Limit(kind), Detail: detail})
		return goja.Undefined()
	})
	set("write", func(stream int, text string) goja.Value {
		st := cur()
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
			st.limitHit(rt, &LimitError{Limit: LimitOutput, Detail: fmt.Sprintf("the program printed more than %d bytes: print summaries or the first rows, or write full results to a file", s.opts.MaxOutput)})
		}
		return goja.Undefined()
	})
	set("exit", func(code int) goja.Value {
		rt.Interrupt(exitSignal{code})
		return goja.Undefined()
	})
	set("regexCheck", func(src string) string { return checkRegexp(src) })
	set("jsonDepth", jsonDepth)
	set("readFile", func(p string) string {
		b, _, err := s.files.read(p)
		if err != nil {
			throw("ENOENT: no such file or directory, open '" + p + "'")
		}
		return strings.ToValidUTF8(string(b), "\uFFFD")
	})
	set("fileSize", func(p string) int64 {
		key, err := cleanPath(p)
		if err != nil {
			throw(err.Error())
		}
		b, ok := s.files.files[key]
		if !ok {
			throw("ENOENT: no such file or directory, stat '" + p + "'")
		}
		return int64(len(b))
	})
	set("writeFile", func(p, data string, appendTo bool) goja.Value {
		st := cur()
		content := []byte(data)
		if appendTo {
			if key, err := cleanPath(p); err == nil {
				if old, ok := s.files.files[key]; ok {
					if int64(len(old)+len(data)) > s.opts.MaxFileSpace {
						st.limitHit(rt, &LimitError{Limit: LimitSize, Detail: fmt.Sprintf("appending to %s would pass the %d bytes the sandbox's files may hold", key, s.opts.MaxFileSpace)})
						return goja.Undefined()
					}
					content = append(slices.Clip(old), data...)
				}
			}
		}
		if err := s.files.write(p, content); err != nil {
			var le *LimitError
			if errors.As(err, &le) {
				st.limitHit(rt, le)
				return goja.Undefined()
			}
			throw(err.Error())
		}
		key, _ := cleanPath(p)
		st.changed[key] = true
		return goja.Undefined()
	})
	set("exists", func(p string) bool {
		key, err := cleanPath(p)
		if err != nil {
			return false
		}
		if _, ok := s.files.files[key]; ok {
			return true
		}
		for k := range s.files.files {
			if strings.HasPrefix(k, key+"/") {
				return true
			}
		}
		return false
	})
	set("removeFile", func(p string) goja.Value {
		ok, err := s.files.remove(p)
		if err != nil {
			throw(err.Error())
		}
		if !ok {
			throw("ENOENT: no such file or directory, unlink '" + p + "'")
		}
		return goja.Undefined()
	})
	set("listDir", func(dir string) []string {
		prefix := ""
		if key, err := cleanPath(dir); err == nil {
			prefix = key + "/"
		}
		var out []string
		for _, k := range s.files.names(0) {
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
	})

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
