package codeinterp

import (
	"fmt"
	"reflect"

	"github.com/dop251/goja/ast"
)

// checkRegexp refuses regular expressions that can take exponential time in
// a backtracking engine: goja runs some patterns (lookaround,
// backreferences, and global matches resumed from lastIndex) with a
// backtracking engine that cannot be interrupted. A pattern is refused when
// a group containing a variable quantifier (*, +, {n,}, {n,m}) or an alternation
// is itself repeated without bound — the shapes of (a+)+, (a*)*b and (a|a)*
// — which are the causes of catastrophic backtracking. The returned
// message says what to change; "" means the pattern is accepted.
func checkRegexp(pattern string) string {
	type group struct{ unbounded, alt bool }
	stack := []group{{}}
	var last *group // the group that just closed, if the previous atom was one
	for i := 0; i < len(pattern); i++ {
		c := pattern[i]
		quant, unbounded := false, false
		switch c {
		case '\\':
			i++
			last = nil
			continue
		case '[':
			for i++; i < len(pattern) && pattern[i] != ']'; i++ {
				if pattern[i] == '\\' {
					i++
				}
			}
			last = nil
			continue
		case '(':
			stack = append(stack, group{})
			last = nil
			continue
		case ')':
			if len(stack) > 1 {
				g := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				top := &stack[len(stack)-1]
				top.unbounded = top.unbounded || g.unbounded
				top.alt = top.alt || g.alt
				last = &g
			}
			continue
		case '|':
			stack[len(stack)-1].alt = true
			last = nil
			continue
		case '*', '+':
			quant, unbounded = true, true
		case '?':
			if i > 0 && (pattern[i-1] == '*' || pattern[i-1] == '+' || pattern[i-1] == '?' || pattern[i-1] == '}') {
				continue // lazy modifier
			}
			quant = true
		case '{':
			j := i + 1
			sawComma := false
			for j < len(pattern) && pattern[j] != '}' {
				if pattern[j] == ',' {
					sawComma = true
				}
				j++
			}
			if j < len(pattern) {
				// {n} repeats exactly; {n,} and {n,m} choose how often,
				// which is what makes backtracking ambiguous.
				quant, unbounded = true, sawComma
				i = j
			}
		}
		if !quant {
			last = nil
			continue
		}
		if last != nil && unbounded && (last.unbounded || last.alt) {
			what := "a variable repetition"
			if !last.unbounded {
				what = "an alternation"
			}
			return fmt.Sprintf("the regular expression /%s/ repeats a group that contains %s, which can take exponential time; rewrite it without nested repetition (for example (a+)+ as a+, (a|b)* as [ab]*)", truncate(pattern, 100), what)
		}
		if unbounded {
			stack[len(stack)-1].unbounded = true
		}
		last = nil
	}
	return ""
}

var regExpLiteralType = reflect.TypeOf((*ast.RegExpLiteral)(nil))

// findUnsafeRegexp walks a parsed program for regular-expression literals
// that checkRegexp refuses, returning the first refusal.
func findUnsafeRegexp(prg *ast.Program) string {
	seen := map[uintptr]bool{}
	var walk func(v reflect.Value) string
	walk = func(v reflect.Value) string {
		switch v.Kind() {
		case reflect.Pointer:
			if v.IsNil() || seen[v.Pointer()] {
				return ""
			}
			seen[v.Pointer()] = true
			if v.Type() == regExpLiteralType {
				return checkRegexp(v.Interface().(*ast.RegExpLiteral).Pattern)
			}
			return walk(v.Elem())
		case reflect.Interface:
			if v.IsNil() {
				return ""
			}
			return walk(v.Elem())
		case reflect.Struct:
			for i := 0; i < v.NumField(); i++ {
				if !v.Type().Field(i).IsExported() {
					continue
				}
				if m := walk(v.Field(i)); m != "" {
					return m
				}
			}
		case reflect.Slice, reflect.Array:
			for i := 0; i < v.Len(); i++ {
				if m := walk(v.Index(i)); m != "" {
					return m
				}
			}
		}
		return ""
	}
	return walk(reflect.ValueOf(prg))
}
