package codeinterptest

import "github.com/bedrockkit/bedrockkit/agent/codeinterp"

// Attack is a JavaScript program that tries to escape a sandbox or exhaust
// its host. Running it must end the call safely: with a *LimitError for
// the named Limit when Limit is set, otherwise with the program's own error
// (Execution.Error) containing ErrorContains.
type Attack struct {
	Name string
	Code string
	// Limit is the limit the call must report (as a *codeinterp.LimitError);
	// "" when the attack must instead fail as a program error.
	Limit codeinterp.Limit
	// AnyLimit accepts any *LimitError (for attacks that several limits
	// can legitimately stop first, such as memory against time).
	AnyLimit bool
	// ErrorContains must appear in Execution.Error when Limit and AnyLimit
	// are unset.
	ErrorContains string
}

// Attacks returns the escape and exhaustion attempts every local JavaScript
// sandbox must survive. Run them with a short CPUTime (a second or less) and
// a small MemoryLimit (16 MiB): the loops among them only end at a limit.
func Attacks() []Attack {
	return []Attack{
		// Runaway computation.
		{Name: "infinite loop", Code: `for (;;) {}`, AnyLimit: true},
		{Name: "loop that catches everything", Code: `for (;;) { try { for (;;) {} } catch (e) {} }`, AnyLimit: true},
		{Name: "runaway recursion", Code: `function f(n) { return f(n + 1) + 1 } f(0)`, Limit: codeinterp.LimitStack},
		{Name: "recursion that catches its overflow", Code: `function f() { try { return f() } catch (e) { return f() } } f()`, AnyLimit: true},
		{Name: "infinite promise chain", Code: `Promise.resolve().then(function f() { return Promise.resolve().then(f) })`, AnyLimit: true},
		{Name: "async infinite loop", Code: `(async () => { await null; for (;;) {} })()`, AnyLimit: true},
		{Name: "getter loop inside console.log", Code: `console.log({ get a() { for (;;) {} } })`, AnyLimit: true},
		{Name: "sort comparator that never returns", Code: `[3, 2, 1].sort(() => { for (;;) {} })`, AnyLimit: true},

		// Huge allocations in one built-in call.
		{Name: "string repeat 1e9", Code: `'x'.repeat(1e9).length`, Limit: codeinterp.LimitSize},
		{Name: "padEnd 1e9", Code: `'x'.padEnd(1e9).length`, Limit: codeinterp.LimitSize},
		{Name: "padStart with a valueOf that lies", Code: `let n = 0; const r = 'x'.padStart({ valueOf() { return n++ ? 1e9 : 1 } }); throw new Error('length ' + r.length)`, ErrorContains: "length 1"},
		{Name: "fill a sparse 1e9 array", Code: `new Array(1e9).fill(0).length`, Limit: codeinterp.LimitSize},
		{Name: "join a sparse 1e9 array", Code: `Array(1e9).join('x').length`, Limit: codeinterp.LimitSize},
		{Name: "stringify a sparse array by coercion", Code: `String(Array(1e8)).length`, Limit: codeinterp.LimitSize},
		{Name: "template literal of a sparse array", Code: "`${Array(1e8)}`.length", Limit: codeinterp.LimitSize},
		{Name: "JSON.stringify a sparse array", Code: `JSON.stringify(Array(1e8)).length`, Limit: codeinterp.LimitSize},
		{Name: "spread a sparse array", Code: `[...Array(1e8)].length`, Limit: codeinterp.LimitSize},
		{Name: "spread a sparse array into arguments", Code: `Math.max(...Array(1e8))`, Limit: codeinterp.LimitSize},
		{Name: "apply with a huge array-like", Code: `Math.max.apply(null, { length: 1e9 })`, Limit: codeinterp.LimitSize},
		{Name: "Reflect.apply with a huge array-like", Code: `Reflect.apply(Math.max, null, { length: 1e9 })`, Limit: codeinterp.LimitSize},
		{Name: "Set from a sparse array", Code: `new Set(Array(1e8)).size`, Limit: codeinterp.LimitSize},
		{Name: "Array.from a huge array-like", Code: `Array.from({ length: 1e9 }).length`, Limit: codeinterp.LimitSize},
		{Name: "map over a huge array-like", Code: `Array.prototype.map.call({ length: 1e9 }, x => x).length`, Limit: codeinterp.LimitSize},
		{Name: "indexOf on a sparse array", Code: `Array(1e9).indexOf(1)`, Limit: codeinterp.LimitSize},
		{Name: "sort a sparse array", Code: `Array(1e9).sort().length`, Limit: codeinterp.LimitSize},
		{Name: "flatten a sparse inner array", Code: `[Array(1e9)].flat().length`, Limit: codeinterp.LimitSize},
		{Name: "flatten deeply to a sparse array", Code: `[[[Array(1e9)]]].flat(Infinity).length`, Limit: codeinterp.LimitSize},
		{Name: "flatMap to a sparse array", Code: `[1].flatMap(() => Array(1e9)).length`, Limit: codeinterp.LimitSize},
		{Name: "String.raw with a huge raw length", Code: `String.raw({ raw: { length: 1e9 } }).length`, Limit: codeinterp.LimitSize},
		{Name: "Map from a sparse array", Code: `new Map(Array(1e9)).size`, Limit: codeinterp.LimitSize},
		{Name: "Promise.all of a sparse array", Code: `Promise.all(Array(1e9))`, Limit: codeinterp.LimitSize},
		{Name: "length getter that changes", Code: `let k = 0; Array.prototype.join.call({ get length() { return k++ ? 1e9 : 1 } })`, Limit: codeinterp.LimitSize},
		{Name: "join of many references to a big string", Code: `const big = 'x'.repeat(1e5); Array(1000).fill(big).join('').length`, Limit: codeinterp.LimitSize},
		{Name: "split a big string into characters", Code: `'x'.repeat(1e6).split('').length`, Limit: codeinterp.LimitSize},
		{Name: "spread a big string", Code: `[...'x'.repeat(1e6)].length`, Limit: codeinterp.LimitSize},
		{Name: "Object.keys of a big string", Code: `Object.keys('x'.repeat(1e6)).length`, Limit: codeinterp.LimitSize},
		{Name: "replacement that copies the subject per match", Code: "'a'.repeat(2e5).replace(/a/g, '$`').length", AnyLimit: true},
		{Name: "concat many big strings", Code: `const b = 'x'.repeat(1e6); ''.concat(b, b, b, b, b).length`, Limit: codeinterp.LimitSize},
		{Name: "typed arrays are absent", Code: `new Float64Array(1e9)`, ErrorContains: "Float64Array"},
		{Name: "ArrayBuffer is absent", Code: `new ArrayBuffer(1e9)`, ErrorContains: "ArrayBuffer"},
		{Name: "deeply nested JSON.parse", Code: `JSON.parse('['.repeat(1e5) + ']'.repeat(1e5))`, Limit: codeinterp.LimitSize},
		{Name: "huge JSON.parse", Code: `JSON.parse('"' + 'x'.repeat(2e6) + '"').length`, Limit: codeinterp.LimitSize},
		{Name: "deeply nested JSON.stringify", Code: `let a = []; for (let i = 0; i < 1e5; i++) a = [a]; JSON.stringify(a).length`, AnyLimit: true},
		{Name: "deeply nested toString", Code: `let a = []; for (let i = 0; i < 1e5; i++) a = [a]; String(a).length`, AnyLimit: true},

		// Gradual exhaustion.
		{Name: "string doubling", Code: `let s = 'ab'; for (;;) s += s`, AnyLimit: true},
		{Name: "growing array of objects", Code: `const s = 'x'.repeat(1e5); const a = []; for (let i = 0; ; i++) a.push(s + i)`, Limit: codeinterp.LimitMemory},
		{Name: "growing map", Code: `const s = 'v'.repeat(1e5); const m = new Map(); for (let i = 0; ; i++) m.set(i, { text: s + i })`, Limit: codeinterp.LimitMemory},
		{Name: "output flood", Code: `for (;;) console.log('x'.repeat(1000))`, Limit: codeinterp.LimitOutput},
		{Name: "stdout.write flood", Code: `for (;;) process.stdout.write('y')`, Limit: codeinterp.LimitOutput},
		{Name: "console.error flood", Code: `for (;;) console.error('e'.repeat(100))`, Limit: codeinterp.LimitOutput},
		{Name: "file space flood", Code: `const s = 'x'.repeat(1e6); for (let i = 0; ; i++) writeFile('f' + i + '.txt', s)`, Limit: codeinterp.LimitSize},
		{Name: "append flood", Code: `const fs = require('fs'); for (;;) fs.appendFileSync('log.txt', 'x'.repeat(1e5))`, AnyLimit: true},

		// Catastrophic regular expressions.
		{Name: "nested quantifier literal", Code: `/(a+)+$/.test('a'.repeat(40) + 'b')`, ErrorContains: "exponential"},
		{Name: "nested star with backreference", Code: `/(a*)*\1b/.test('a'.repeat(40))`, ErrorContains: "exponential"},
		{Name: "alternation under a star", Code: `/^(a|a)*$/.test('a'.repeat(40) + 'b')`, ErrorContains: "exponential"},
		{Name: "nested quantifier from a string", Code: `new RegExp('(x+x+)+y').test('x'.repeat(40))`, ErrorContains: "exponential"},
		{Name: "nested quantifier through the constructor property", Code: `new (/x/.constructor)('(a+)+$').test('a'.repeat(40) + 'b')`, ErrorContains: "exponential"},
		{Name: "nested quantifier through species", Code: `const C = Object.getPrototypeOf(/x/).constructor; C('(\\w+\\s?)+$').test('a'.repeat(40) + '!')`, ErrorContains: "exponential"},

		// Escapes: code generation, host objects, environment.
		{Name: "eval", Code: `eval('1 + 1')`, ErrorContains: "code generation"},
		{Name: "indirect eval", Code: `(0, eval)('this')`, ErrorContains: "code generation"},
		{Name: "Function constructor", Code: `Function('return this')()`, ErrorContains: "code generation"},
		{Name: "constructor of a function", Code: `(function () {}).constructor('return 1')()`, ErrorContains: "code generation"},
		{Name: "constructor of an async function", Code: `(async function () {}).constructor('return 1')`, ErrorContains: "code generation"},
		{Name: "constructor of a generator", Code: `(function* () {}).constructor('yield 1')`, ErrorContains: "code generation"},
		{Name: "require child_process", Code: `require('child_process').execSync('id')`, ErrorContains: "Cannot find module"},
		{Name: "require http", Code: `require('http').get('http://169.254.169.254/')`, ErrorContains: "Cannot find module"},
		{Name: "fetch", Code: `fetch('http://example.com')`, ErrorContains: "fetch"},
		{Name: "XMLHttpRequest", Code: `new XMLHttpRequest()`, ErrorContains: "XMLHttpRequest"},
		{Name: "environment is empty", Code: `if (Object.keys(process.env).length) throw new Error('env leaked'); throw new Error('no env')`, ErrorContains: "no env"},
		{Name: "host file outside the sandbox", Code: `require('fs').readFileSync('/etc/passwd', 'utf8')`, ErrorContains: "ENOENT"},
		{Name: "climbing out of the file space", Code: `require('fs').readFileSync('../../../etc/hostname', 'utf8')`, ErrorContains: "ENOENT"},
		{Name: "Proxy is absent", Code: `new Proxy({}, {})`, ErrorContains: "Proxy"},
		{Name: "no host object in the global scope", Code: `const names = Object.getOwnPropertyNames(globalThis).filter(n => /^(host|Java|Packages|os|child_process|__)/i.test(n)); throw new Error(names.length ? 'found ' + names : 'clean')`, ErrorContains: "clean"},
		{Name: "tampered builtins do not disable guards", Code: `Reflect.apply = () => 0; Object.getOwnPropertyDescriptor = () => undefined; Array.isArray = () => false; Array(1e9).join('x')`, Limit: codeinterp.LimitSize},
		{Name: "process.exit with an error code", Code: `process.exit(3)`, ErrorContains: "exit code 3"},
	}
}
