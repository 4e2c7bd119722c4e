// The sandbox's prelude: it runs once in every new runtime, before any
// program, with a host object holding the Go functions (write, limit,
// regexCheck, jsonDepth, files). Everything it needs is captured here, so a
// program that tampers with built-ins breaks only its own results, never the
// limits. Loops use indexes, not for-of or spread, so the guarded iterators
// below are not re-entered.
(function (host) {
  'use strict';
  const G = globalThis;
  const O = Object, A = Array, S = String, N = Number, R = Reflect, M = Math;
  const defineProperty = O.defineProperty, getOwnPropertyDescriptor = O.getOwnPropertyDescriptor;
  const getPrototypeOf = O.getPrototypeOf, objectKeys = O.keys, freeze = O.freeze;
  const apply = R.apply, construct = R.construct, isArray = A.isArray;
  const floor = M.floor, min = M.min, max = M.max, abs = M.abs;
  const MAX_STR = host.maxString, MAX_ARR = host.maxArray, MAX_JSON = host.maxJSON, MAX_DEPTH = 500;
  const limit = host.limit, write = host.write;
  const AP = A.prototype, SP = S.prototype;
  const nativeJoin = AP.join, nativePush = AP.push, nativeSlice = AP.slice, nativeIndexOf = AP.indexOf;
  const nativeStringify = JSON.stringify, nativeParse = JSON.parse;
  const strSlice = SP.slice, strIndexOf = SP.indexOf, strRepeat = SP.repeat, strReplace = SP.replace;
  const numToFixed = N.prototype.toFixed, regExpTest = RegExp.prototype.test;
  const ObjectToString = O.prototype.toString;

  function hide(obj, name, value) {
    defineProperty(obj, name, { value, writable: true, configurable: true, enumerable: false });
  }
  function push(a, v) { a[a.length] = v; }
  function reTest(re, s) { return apply(regExpTest, re, [s]); }

  // ---- no code generation from strings, no reflection on host objects ----
  const noCodegen = function Function() {
    throw new EvalError('code generation from strings (eval, new Function) is not available in this sandbox: write the code directly');
  };
  const FP = getPrototypeOf(function () {});
  noCodegen.prototype = FP;
  const fnProtos = [FP];
  try { push(fnProtos, getPrototypeOf(function* () {})); } catch (e) { }
  try { push(fnProtos, getPrototypeOf(async function () {})); } catch (e) { }
  for (let i = 0; i < fnProtos.length; i++) {
    defineProperty(fnProtos[i], 'constructor', { value: noCodegen, writable: false, configurable: false });
  }
  defineProperty(G, 'Function', { value: noCodegen, writable: false, configurable: false });
  defineProperty(G, 'eval', { value: function () { return noCodegen(); }, writable: false, configurable: false });
  const removed = ['Proxy', 'ArrayBuffer', 'SharedArrayBuffer', 'DataView', 'Int8Array', 'Uint8Array',
    'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array', 'Float32Array',
    'Float64Array', 'BigInt64Array', 'BigUint64Array', 'WeakRef', 'FinalizationRegistry', 'Atomics'];
  for (let i = 0; i < removed.length; i++) delete G[removed[i]];

  // ---- size guards ----
  function tooBig(what, n, most) {
    return limit('size', what + ' would have ' + n + ' elements; built-in operations accept at most ' + most + ': work on smaller pieces');
  }
  // lenOf reads a length the way a built-in will, refusing length getters
  // (they could answer differently when the built-in reads them again).
  function lenOf(o) {
    if (o === null || o === undefined) return 0;
    if (typeof o === 'string') return o.length;
    if (typeof o !== 'object' && typeof o !== 'function') return 0;
    if (isArray(o)) return o.length;
    for (let p = o; p !== null; p = getPrototypeOf(p)) {
      const d = getOwnPropertyDescriptor(p, 'length');
      if (d === undefined) continue;
      if (!('value' in d)) { limit('size', 'built-in operations do not accept array-like objects whose length is a getter'); return 0; }
      const v = d.value;
      if (typeof v === 'object' && v !== null) { limit('size', 'built-in operations do not accept an object as a length'); return 0; }
      const n = N(v);
      return n > 0 ? min(floor(n), 9007199254740991) : 0;
    }
    return 0;
  }
  function checkLen(o, what) {
    const n = lenOf(o);
    if (n > MAX_ARR) tooBig(what, n, MAX_ARR);
    return n;
  }
  function checkStr(n, what) {
    if (n > MAX_STR) limit('size', what + ' would be ' + n + ' characters long; the most allowed is ' + MAX_STR + ': build smaller strings');
  }
  function wrap(obj, name, guard) {
    const orig = obj[name];
    if (typeof orig !== 'function') return;
    const w = {
      [name](...args) {
        const r = guard(this, args);
        if (r !== undefined) return r.value;
        return apply(orig, this, args);
      }
    }[name];
    hide(obj, name, w);
    return orig;
  }

  // Array methods walk `length` natively, without stopping for limits: a
  // sparse array (Array(1e9)) or an array-like ({length: 1e9}) could make
  // them run for minutes or allocate gigabytes. Every method checks it first.
  const arrayNames = O.getOwnPropertyNames(AP);
  for (let i = 0; i < arrayNames.length; i++) {
    const k = arrayNames[i];
    if (k === 'constructor' || k === 'push' || k === 'pop' || k === 'at' || k === 'join' || k === 'length') continue;
    wrap(AP, k, function (self, args) {
      checkLen(self, 'the array');
      for (let j = 0; j < args.length; j++) {
        const a = args[j];
        if (a !== null && typeof a === 'object' && isArray(a)) checkLen(a, 'an argument array');
      }
    });
  }
  wrap(AP, Symbol.iterator, function (self) { checkLen(self, 'spreading or iterating the array'); });
  // join builds its result from parts whose total size is checked first, so
  // ["x".repeat(1e6), ...].join() cannot allocate past the limit in one step.
  hide(AP, 'join', function join(sep) {
    const o = O(this);
    const n = checkLen(o, 'the array');
    sep = sep === undefined ? ',' : S(sep);
    const parts = new A(n);
    let total = n > 0 ? sep.length * (n - 1) : 0;
    for (let i = 0; i < n; i++) {
      const e = o[i];
      const s = e === null || e === undefined ? '' : S(e);
      parts[i] = s;
      total += s.length;
      if (total > MAX_STR) return checkStr(total, 'the joined string');
    }
    checkStr(total, 'the joined string');
    return apply(nativeJoin, parts, [sep]);
  });
  wrap(A, 'from', function (self, args) { checkLen(args[0], 'Array.from'); });
  // flat and flatMap walk nested arrays natively: a sparse inner array
  // (Array(1e9)) would keep them looping. Written here, every array they
  // visit is checked and every step can be stopped.
  const flatInto = function (out, src, depth) {
    const n = checkLen(src, 'the array');
    for (let i = 0; i < n; i++) {
      if (!(i in src)) continue;
      const v = src[i];
      if (depth > 0 && isArray(v)) flatInto(out, v, depth - 1);
      else {
        out[out.length] = v;
        if (out.length > MAX_ARR) return tooBig('the flattened array', out.length, MAX_ARR);
      }
    }
  };
  hide(AP, 'flat', function flat(depth) {
    let d = depth === undefined ? 1 : M.trunc(N(depth));
    if (d !== d) d = 0;
    const out = [];
    flatInto(out, O(this), d);
    return out;
  });
  hide(AP, 'flatMap', function flatMap(fn, thisArg) {
    if (typeof fn !== 'function') throw new TypeError('flatMap mapper function is not callable');
    const o = O(this);
    const n = checkLen(o, 'the array');
    const out = [];
    for (let i = 0; i < n; i++) {
      if (!(i in o)) continue;
      const v = apply(fn, thisArg, [o[i], i, o]);
      if (isArray(v)) flatInto(out, v, 0);
      else out[out.length] = v;
    }
    return out;
  });
  wrap(S, 'raw', function (self, args) {
    const t = args[0];
    if (t !== null && typeof t === 'object') checkLen(t.raw, 'String.raw');
  });

  wrap(FP, 'apply', function (self, args) { checkLen(args[1], 'the argument list'); });
  wrap(R, 'apply', function (self, args) { checkLen(args[2], 'the argument list'); });
  wrap(R, 'construct', function (self, args) { checkLen(args[1], 'the argument list'); });
  const objStringArg = function (self, args) {
    if (typeof args[0] === 'string') checkLen(args[0], 'the string');
  };
  const objFns = ['keys', 'values', 'entries', 'getOwnPropertyNames', 'getOwnPropertyDescriptors'];
  for (let i = 0; i < objFns.length; i++) wrap(O, objFns[i], objStringArg);
  wrap(O, 'assign', function (self, args) {
    for (let j = 1; j < args.length; j++) if (typeof args[j] === 'string') checkLen(args[j], 'the string');
  });

  // Strings.
  wrap(SP, 'repeat', function (self, args) {
    const s = S(self), n = N(args[0]);
    if (s.length * n > MAX_STR) return { value: checkStr(s.length * n, 'the repeated string') };
    return { value: apply(strRepeat, s, [n]) };
  });
  const pad = function (name) {
    const orig = SP[name];
    hide(SP, name, {
      [name](len, fill) {
        const s = S(this), n = N(len);
        if (n > MAX_STR) return checkStr(n, 'the padded string');
        return apply(orig, s, [n, fill === undefined ? undefined : S(fill)]);
      }
    }[name]);
  };
  pad('padStart');
  pad('padEnd');
  wrap(SP, 'concat', function (self, args) {
    let total = S(self).length;
    const strs = [];
    for (let j = 0; j < args.length; j++) { const s = S(args[j]); push(strs, s); total += s.length; }
    checkStr(total, 'the concatenated string');
    return { value: apply(nativeJoin, [S(self), apply(nativeJoin, strs, [''])], ['']) };
  });
  wrap(SP, 'split', function (self, args) {
    const s = S(self), sep = args[0], lim = args[1];
    const pieces = typeof sep === 'string' && sep.length > 0 ? floor(s.length / sep.length) + 1 : s.length + 1;
    const most = lim === undefined ? pieces : min(pieces, N(lim) >>> 0);
    if (most > MAX_ARR) tooBig('splitting the string', most, MAX_ARR);
  });
  wrap(SP, Symbol.iterator, function (self) { checkLen(S(self), 'iterating the string'); });
  const substitution = function (matched, str, position, captures, groups, repl) {
    let out = '';
    for (let i = 0; i < repl.length; i++) {
      const c = repl[i];
      if (c !== '$' || i + 1 === repl.length) { out += c; continue; }
      const d = repl[i + 1];
      if (d === '$') { out += '$'; i++; }
      else if (d === '&') { out += matched; i++; }
      else if (d === '`') { out += apply(strSlice, str, [0, position]); i++; }
      else if (d === "'") { out += apply(strSlice, str, [position + matched.length]); i++; }
      else if (d >= '0' && d <= '9') {
        let n = N(d), used = 1;
        const d2 = repl[i + 2];
        if (d2 !== undefined && d2 >= '0' && d2 <= '9' && n * 10 + N(d2) <= captures.length) { n = n * 10 + N(d2); used = 2; }
        if (n >= 1 && n <= captures.length) { const v = captures[n - 1]; out += v === undefined ? '' : v; i += used; }
        else out += '$';
      } else if (d === '<' && groups !== undefined) {
        const end = apply(strIndexOf, repl, ['>', i]);
        if (end < 0) { out += '$'; continue; }
        const v = groups[apply(strSlice, repl, [i + 2, end])];
        out += v === undefined ? '' : S(v);
        i = end;
      } else out += '$';
    }
    return out;
  };
  // A replacement string with $` or $' can make every match copy the whole
  // subject: when the result could pass the limit, the replacement runs as a
  // function instead, one match at a time, where limits are checked.
  const guardReplace = function (self, args) {
    const s = S(self), repl = args[1];
    if (typeof repl !== 'string') return;
    let perMatch = repl.length;
    if (apply(strIndexOf, repl, ['$']) >= 0) perMatch += repl.length * s.length;
    if (s.length + (s.length + 1) * perMatch <= MAX_STR) return;
    const fn = function (matched, ...rest) {
      let groups;
      if (typeof rest[rest.length - 1] === 'object') groups = rest[rest.length - 1];
      const k = groups === undefined ? rest.length - 2 : rest.length - 3;
      const captures = apply(nativeSlice, rest, [0, k]);
      return substitution(matched, s, rest[k], captures, groups, repl);
    };
    return { value: apply(this.orig, s, [args[0], fn]) };
  };
  const replaceCtx = { orig: SP.replace };
  wrap(SP, 'replace', function (self, args) { return apply(guardReplace, replaceCtx, [self, args]); });
  const replaceAllCtx = { orig: SP.replaceAll };
  if (replaceAllCtx.orig) wrap(SP, 'replaceAll', function (self, args) { return apply(guardReplace, replaceAllCtx, [self, args]); });

  // JSON.parse builds the whole tree natively and recursively: bound the
  // text and its nesting first.
  hide(JSON, 'parse', function parse(text, reviver) {
    const t = S(text);
    if (t.length > MAX_JSON) return limit('size', 'JSON.parse got ' + t.length + ' characters; the most accepted is ' + MAX_JSON + ': parse smaller documents (one line or record at a time)');
    if (host.jsonDepth(t) > MAX_DEPTH) return limit('size', 'JSON.parse got a document nested deeper than ' + MAX_DEPTH + ' levels');
    return reviver === undefined ? apply(nativeParse, JSON, [t]) : apply(nativeParse, JSON, [t, reviver]);
  });

  // JSON.stringify written in JavaScript, so that deep or huge values are
  // stopped by the call-depth, time and size limits instead of running
  // natively to the end.
  function stringify(value, replacer, space) {
    let gap = '';
    if (space !== null && typeof space === 'object') {
      if (space instanceof N) space = N(space); else if (space instanceof S) space = S(space);
    }
    if (typeof space === 'number') gap = apply(strRepeat, ' ', [max(0, min(10, floor(space) || 0))]);
    else if (typeof space === 'string') gap = apply(strSlice, space, [0, 10]);
    let fn = null, keep = null;
    if (typeof replacer === 'function') fn = replacer;
    else if (isArray(replacer)) {
      keep = [];
      const n = checkLen(replacer, 'the replacer');
      for (let i = 0; i < n; i++) {
        let v = replacer[i], item;
        if (typeof v === 'string') item = v;
        else if (typeof v === 'number' || v instanceof N || v instanceof S) item = S(v);
        if (item !== undefined && apply(nativeIndexOf, keep, [item]) < 0) push(keep, item);
      }
    }
    const stack = [];
    let total = 0;
    const count = function (s) {
      total += s.length;
      if (total > MAX_STR) checkStr(total, 'the JSON text');
      return s;
    };
    const quote = function (s) { return count(apply(nativeStringify, JSON, [s])); };
    const ser = function (holder, key, indent) {
      let v = holder[key];
      if (v !== null && (typeof v === 'object' || typeof v === 'bigint')) {
        const toJSON = v.toJSON;
        if (typeof toJSON === 'function') v = apply(toJSON, v, [key]);
      }
      if (fn !== null) v = apply(fn, holder, [key, v]);
      if (v !== null && typeof v === 'object') {
        if (v instanceof N) v = N(v);
        else if (v instanceof S) v = S(v);
        else if (v instanceof Boolean) v = v.valueOf();
      }
      if (v === null) return count('null');
      if (v === true) return count('true');
      if (v === false) return count('false');
      if (typeof v === 'string') return quote(v);
      if (typeof v === 'number') return count(isFinite(v) ? S(v) : 'null');
      if (typeof v === 'bigint') throw new TypeError('Do not know how to serialize a BigInt');
      if (typeof v !== 'object') return undefined;
      if (apply(nativeIndexOf, stack, [v]) >= 0) throw new TypeError('Converting circular structure to JSON');
      push(stack, v);
      const inner = indent + gap;
      const parts = [];
      let out;
      if (isArray(v)) {
        const n = checkLen(v, 'the array');
        for (let i = 0; i < n; i++) {
          const s = ser(v, S(i), inner);
          push(parts, s === undefined ? count('null') : s);
        }
        if (parts.length === 0) out = '[]';
        else if (gap === '') out = '[' + apply(nativeJoin, parts, [',']) + ']';
        else out = '[\n' + inner + apply(nativeJoin, parts, [',\n' + inner]) + '\n' + indent + ']';
      } else {
        const keys = keep !== null ? keep : objectKeys(v);
        for (let i = 0; i < keys.length; i++) {
          const s = ser(v, keys[i], inner);
          if (s !== undefined) push(parts, quote(keys[i]) + (gap === '' ? ':' : ': ') + s);
        }
        if (parts.length === 0) out = '{}';
        else if (gap === '') out = '{' + apply(nativeJoin, parts, [',']) + '}';
        else out = '{\n' + inner + apply(nativeJoin, parts, [',\n' + inner]) + '\n' + indent + '}';
      }
      stack.length = stack.length - 1;
      count(out);
      total -= out.length; // count the wrapper once, not the parts again
      total += 2 + parts.length;
      return out;
    };
    return ser({ '': value }, '', '');
  }
  hide(JSON, 'stringify', function stringify_(value, replacer, space) { return stringify(value, replacer, space); });
  defineProperty(JSON.stringify, 'name', { value: 'stringify' });

  // ---- regular expressions: refuse patterns that backtrack exponentially ----
  const NativeRegExp = RegExp;
  const SafeRegExp = function RegExp(pattern, flags) {
    const src = pattern instanceof NativeRegExp ? pattern.source : pattern === undefined ? '' : S(pattern);
    const msg = host.regexCheck(src);
    if (msg !== '') throw new SyntaxError(msg);
    if (new.target === undefined) return NativeRegExp(pattern, flags);
    return construct(NativeRegExp, [pattern, flags], new.target);
  };
  SafeRegExp.prototype = NativeRegExp.prototype;
  hide(NativeRegExp.prototype, 'constructor', SafeRegExp);
  defineProperty(SafeRegExp, Symbol.species, { get() { return this; }, configurable: true });
  delete NativeRegExp.prototype.compile;
  hide(G, 'RegExp', SafeRegExp);

  // ---- dates: the sandbox's time zone is UTC, whatever the host's ----
  const NativeDate = Date, DP = NativeDate.prototype;
  const nativeTZO = DP.getTimezoneOffset, getTime = DP.getTime, toISO = DP.toISOString;
  const parts = ['FullYear', 'Month', 'Date', 'Day', 'Hours', 'Minutes', 'Seconds', 'Milliseconds'];
  for (let i = 0; i < parts.length; i++) {
    hide(DP, 'get' + parts[i], DP['getUTC' + parts[i]]);
    if (parts[i] !== 'Day') hide(DP, 'set' + parts[i], DP['setUTC' + parts[i]]);
  }
  hide(DP, 'getYear', function getYear() { return this.getUTCFullYear() - 1900; });
  hide(DP, 'getTimezoneOffset', function getTimezoneOffset() { const t = apply(getTime, this, []); return t !== t ? NaN : 0; });
  const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
  const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
  const p2 = function (n) { return n < 10 ? '0' + n : S(n); };
  const dateParts = function (d) {
    const t = apply(getTime, d, []);
    if (t !== t) return null;
    return { y: d.getUTCFullYear(), mo: d.getUTCMonth(), d: d.getUTCDate(), wd: d.getUTCDay(), h: d.getUTCHours(), mi: d.getUTCMinutes(), s: d.getUTCSeconds() };
  };
  const yearStr = function (y) { return y < 0 ? '-' + apply(SP.padStart, S(-y), [6, '0']) : apply(SP.padStart, S(y), [4, '0']); };
  const dateStr = function (p) { return apply(strSlice, DAYS[p.wd], [0, 3]) + ' ' + apply(strSlice, MONTHS[p.mo], [0, 3]) + ' ' + p2(p.d) + ' ' + yearStr(p.y); };
  const timeStr = function (p) { return p2(p.h) + ':' + p2(p.mi) + ':' + p2(p.s) + ' GMT+0000 (Coordinated Universal Time)'; };
  hide(DP, 'toString', function toString() { const p = dateParts(this); return p ? dateStr(p) + ' ' + timeStr(p) : 'Invalid Date'; });
  hide(DP, 'toDateString', function toDateString() { const p = dateParts(this); return p ? dateStr(p) : 'Invalid Date'; });
  hide(DP, 'toTimeString', function toTimeString() { const p = dateParts(this); return p ? timeStr(p) : 'Invalid Date'; });
  const hasZone = /(?:Z|[+-]\d\d:?\d\d|GMT|UTC)\s*(?:\([^)]*\))?$/i;
  const dateOnly = /^[+-]?\d{4,6}(?:-\d\d(?:-\d\d)?)?$/;
  const parseDate = function parse(s) {
    s = S(s);
    const t = NativeDate.parse(s);
    if (t !== t) return NaN;
    const trimmed = apply(strReplace, s, [/^\s+|\s+$/g, '']);
    if (reTest(hasZone, trimmed) || reTest(dateOnly, trimmed)) return t;
    // Parsed as host-local time: take the same wall-clock time as UTC.
    return t - apply(nativeTZO, new NativeDate(t), []) * 60000;
  };
  const SafeDate = function Date(...args) {
    if (new.target === undefined) return apply(DP.toString, new NativeDate(), []);
    if (args.length >= 2) return construct(NativeDate, [apply(NativeDate.UTC, null, args)], new.target);
    if (args.length === 1 && typeof args[0] === 'string') return construct(NativeDate, [parseDate(args[0])], new.target);
    return construct(NativeDate, args, new.target);
  };
  SafeDate.prototype = DP;
  SafeDate.UTC = NativeDate.UTC;
  SafeDate.now = NativeDate.now;
  SafeDate.parse = parseDate;
  hide(DP, 'constructor', SafeDate);
  hide(G, 'Date', SafeDate);

  // ---- Intl-like formatting for en-US (goja has no Intl) ----
  const SYMBOLS = { USD: '$', EUR: '€', GBP: '£', JPY: '¥', INR: '₹', CNY: 'CN¥', CAD: 'CA$', AUD: 'A$', CHF: 'CHF\u00a0', KRW: '₩', MXN: 'MX$' };
  // roundDecimal rounds |x| to `digits` decimals, half away from zero, on
  // the shortest decimal form of x (as Intl does: 1.005 -> "1.01").
  const roundDecimal = function (x, digits) {
    let s = S(x);
    if (apply(strIndexOf, s, ['e']) >= 0) s = apply(numToFixed, x, [min(100, digits + 2)]);
    let dot = apply(strIndexOf, s, ['.']);
    let ip = dot < 0 ? s : apply(strSlice, s, [0, dot]);
    let fp = dot < 0 ? '' : apply(strSlice, s, [dot + 1]);
    if (fp.length <= digits) return [ip, fp + apply(strRepeat, '0', [digits - fp.length])];
    const up = fp[digits] >= '5';
    let digitsStr = ip + apply(strSlice, fp, [0, digits]);
    if (up) {
      const ds = apply(SP.split, digitsStr, ['']);
      let i = ds.length - 1;
      for (; i >= 0; i--) { if (ds[i] === '9') ds[i] = '0'; else { ds[i] = S(N(ds[i]) + 1); break; } }
      digitsStr = (i < 0 ? '1' : '') + apply(nativeJoin, ds, ['']);
    }
    const cut = digitsStr.length - digits;
    return [apply(strSlice, digitsStr, [0, cut]) || '0', apply(strSlice, digitsStr, [cut])];
  };
  const group = function (ip) {
    let out = '';
    for (let i = ip.length; i > 0; i -= 3) out = apply(strSlice, ip, [max(0, i - 3), i]) + (out === '' ? '' : ',' + out);
    return out;
  };
  const numberOptions = function (opts) {
    opts = opts === undefined || opts === null ? {} : O(opts);
    const style = opts.style === undefined ? 'decimal' : S(opts.style);
    const currency = opts.currency === undefined ? undefined : apply(SP.toUpperCase, S(opts.currency), []);
    if (style === 'currency' && currency === undefined) throw new TypeError('Currency code is required with currency style.');
    const cd = currency === 'JPY' || currency === 'KRW' ? 0 : 2;
    let minF = opts.minimumFractionDigits, maxF = opts.maximumFractionDigits;
    const defMin = style === 'currency' ? cd : 0;
    const defMax = style === 'currency' ? cd : style === 'percent' ? 0 : 3;
    minF = minF === undefined ? undefined : N(minF);
    maxF = maxF === undefined ? undefined : N(maxF);
    if (minF === undefined) minF = min(defMin, maxF === undefined ? defMin : maxF);
    if (maxF === undefined) maxF = max(defMax, minF);
    if (!(minF >= 0 && minF <= 100 && maxF >= minF && maxF <= 100)) throw new RangeError('maximumFractionDigits value is out of range.');
    let grouping = opts.useGrouping === undefined ? true : opts.useGrouping !== false && opts.useGrouping !== 'false';
    const minInt = opts.minimumIntegerDigits === undefined ? 1 : N(opts.minimumIntegerDigits);
    return { style, currency, minF, maxF, grouping, minInt, display: opts.currencyDisplay, sign: opts.signDisplay, notation: opts.notation,
      maxSig: opts.maximumSignificantDigits === undefined ? undefined : N(opts.maximumSignificantDigits) };
  };
  const formatNumber = function (x, o) {
    x = N(x);
    if (x !== x) return 'NaN';
    let neg = x < 0 || (x === 0 && 1 / x < 0 && o.sign === 'negative' ? false : false);
    let v = abs(x);
    if (o.style === 'percent') v *= 100;
    let suffix = '';
    if (o.notation === 'compact' && v >= 1000) {
      const units = [[1e12, 'T'], [1e9, 'B'], [1e6, 'M'], [1e3, 'K']];
      for (let i = 0; i < units.length; i++) if (v >= units[i][0]) { v /= units[i][0]; suffix = units[i][1]; break; }
      if (o.maxSig === undefined) { o = O.assign({}, o, { minF: 0, maxF: v < 100 ? 1 : 0 }); }
    }
    let body;
    if (v === Infinity) body = '∞';
    else {
      let ip, fp;
      if (o.maxSig !== undefined && v !== 0) {
        const mag = floor(M.log10(v)) + 1;
        const r = roundDecimal(v, max(0, o.maxSig - mag));
        ip = r[0]; fp = r[1];
        if (mag > o.maxSig) { const scale = M.pow(10, mag - o.maxSig); ip = S(M.round(v / scale) * scale); fp = ''; }
        while (fp.length > 0 && fp[fp.length - 1] === '0') fp = apply(strSlice, fp, [0, -1]);
      } else {
        const r = roundDecimal(v, o.maxF);
        ip = r[0]; fp = r[1];
        while (fp.length > o.minF && fp[fp.length - 1] === '0') fp = apply(strSlice, fp, [0, -1]);
      }
      if (ip.length < o.minInt) ip = apply(strRepeat, '0', [o.minInt - ip.length]) + ip;
      if (/^0*$/.test(ip + fp)) neg = false;
      body = (o.grouping ? group(ip) : ip) + (fp.length > 0 ? '.' + fp : '') + suffix;
    }
    let sign = neg ? '-' : '';
    if (o.sign === 'always' || (o.sign === 'exceptZero' && x !== 0)) sign = neg ? '-' : '+';
    if (o.sign === 'never') sign = '';
    if (o.style === 'percent') return sign + body + '%';
    if (o.style === 'currency') {
      let sym = SYMBOLS[o.currency];
      if (o.display === 'code' || sym === undefined) sym = o.currency + '\u00a0';
      if (o.display === 'name') return sign + body + ' ' + o.currency;
      return sign + sym + body;
    }
    return sign + body;
  };
  hide(N.prototype, 'toLocaleString', function toLocaleString(locales, opts) {
    return formatNumber(N.prototype.valueOf.call(this), numberOptions(opts));
  });

  const dateOptions = function (opts, defDate, defTime) {
    opts = opts === undefined || opts === null ? {} : O(opts);
    const o = {};
    const keys = ['weekday', 'year', 'month', 'day', 'hour', 'minute', 'second', 'hour12', 'timeZone', 'dateStyle', 'timeStyle'];
    let any = false;
    for (let i = 0; i < keys.length; i++) if (opts[keys[i]] !== undefined) { o[keys[i]] = opts[keys[i]]; if (i < 7) any = true; }
    if (o.dateStyle !== undefined || o.timeStyle !== undefined) any = true;
    if (!any) {
      if (defDate) { o.year = 'numeric'; o.month = 'numeric'; o.day = 'numeric'; }
      if (defTime) { o.hour = 'numeric'; o.minute = '2-digit'; o.second = '2-digit'; }
    }
    if (o.timeZone !== undefined && o.timeZone !== 'UTC' && o.timeZone !== 'Etc/UTC' && o.timeZone !== 'GMT') {
      throw new RangeError('time zone ' + S(o.timeZone) + ' is not available in this sandbox; only UTC');
    }
    return o;
  };
  const formatDate = function (d, o) {
    const p = dateParts(d);
    if (!p) return 'Invalid Date';
    if (o.dateStyle !== undefined) {
      const ds = o.dateStyle;
      const dp = ds === 'full' ? DAYS[p.wd] + ', ' + MONTHS[p.mo] + ' ' + p.d + ', ' + p.y
        : ds === 'long' ? MONTHS[p.mo] + ' ' + p.d + ', ' + p.y
          : ds === 'medium' ? apply(strSlice, MONTHS[p.mo], [0, 3]) + ' ' + p.d + ', ' + p.y
            : (p.mo + 1) + '/' + p.d + '/' + apply(strSlice, S(p.y), [-2]);
      return o.timeStyle === undefined ? dp : dp + ', ' + formatDate(d, { hour: 'numeric', minute: '2-digit', second: o.timeStyle === 'short' ? undefined : '2-digit' });
    }
    let date = '';
    const month = o.month;
    const monthName = month === 'long' ? MONTHS[p.mo] : month === 'short' ? apply(strSlice, MONTHS[p.mo], [0, 3]) : month === 'narrow' ? MONTHS[p.mo][0] : undefined;
    const day = o.day === undefined ? undefined : o.day === '2-digit' ? p2(p.d) : S(p.d);
    const year = o.year === undefined ? undefined : o.year === '2-digit' ? apply(strSlice, S(p.y), [-2]) : S(p.y);
    if (monthName !== undefined) {
      date = monthName;
      if (day !== undefined) date += ' ' + day;
      if (year !== undefined) date += (day !== undefined ? ', ' : ' ') + year;
    } else {
      const segs = [];
      if (month !== undefined) push(segs, month === '2-digit' ? p2(p.mo + 1) : S(p.mo + 1));
      if (day !== undefined) push(segs, day);
      if (year !== undefined) push(segs, year);
      date = apply(nativeJoin, segs, ['/']);
    }
    if (o.weekday !== undefined) {
      const wd = o.weekday === 'long' ? DAYS[p.wd] : o.weekday === 'short' ? apply(strSlice, DAYS[p.wd], [0, 3]) : DAYS[p.wd][0];
      date = date === '' ? wd : wd + ', ' + date;
    }
    let time = '';
    if (o.hour !== undefined || o.minute !== undefined) {
      const h12 = o.hour12 !== false;
      let h = p.h;
      let ampm = '';
      if (h12) { ampm = h < 12 ? ' AM' : ' PM'; h = h % 12; if (h === 0) h = 12; }
      time = (o.hour === '2-digit' || !h12 ? p2(h) : S(h));
      if (o.minute !== undefined) time += ':' + p2(p.mi);
      if (o.second !== undefined) time += ':' + p2(p.s);
      time += ampm;
    }
    return date !== '' && time !== '' ? date + ', ' + time : date + time;
  };
  hide(DP, 'toLocaleDateString', function toLocaleDateString(l, opts) { return formatDate(this, dateOptions(opts, true, false)); });
  hide(DP, 'toLocaleTimeString', function toLocaleTimeString(l, opts) { return formatDate(this, dateOptions(opts, false, true)); });
  hide(DP, 'toLocaleString', function toLocaleString(l, opts) { return formatDate(this, dateOptions(opts, true, true)); });

  const NumberFormat = function NumberFormat(locales, opts) {
    if (!(this instanceof NumberFormat)) return new NumberFormat(locales, opts);
    const o = numberOptions(opts);
    defineProperty(this, 'format', { value: function (x) { return formatNumber(x, o); } });
    defineProperty(this, 'resolvedOptions', { value: function () { return { locale: 'en-US', style: o.style, currency: o.currency, minimumFractionDigits: o.minF, maximumFractionDigits: o.maxF, useGrouping: o.grouping }; } });
  };
  const DateTimeFormat = function DateTimeFormat(locales, opts) {
    if (!(this instanceof DateTimeFormat)) return new DateTimeFormat(locales, opts);
    const o = dateOptions(opts, true, false);
    defineProperty(this, 'format', { value: function (d) { return formatDate(d === undefined ? new SafeDate() : new SafeDate(typeof d === 'number' ? d : apply(getTime, d, [])), o); } });
    defineProperty(this, 'resolvedOptions', { value: function () { return { locale: 'en-US', timeZone: 'UTC' }; } });
  };
  hide(G, 'Intl', freeze({ NumberFormat, DateTimeFormat, getCanonicalLocales: function () { return ['en-US']; } }));

  // ---- newer built-ins goja lacks ----
  const groupBy = function (items, fn, make, add) {
    const out = make();
    let i = 0;
    const it = items[Symbol.iterator]();
    for (let r = it.next(); !r.done; r = it.next()) add(out, fn(r.value, i++), r.value);
    return out;
  };
  if (O.groupBy === undefined) hide(O, 'groupBy', function groupBy_(items, fn) {
    return groupBy(items, fn, function () { return O.create(null); }, function (o, k, v) { k = typeof k === 'symbol' ? k : S(k); if (o[k] === undefined) o[k] = []; push(o[k], v); });
  });
  if (Map.groupBy === undefined) hide(Map, 'groupBy', function groupBy_(items, fn) {
    return groupBy(items, fn, function () { return new Map(); }, function (m, k, v) { if (!m.has(k)) m.set(k, []); push(m.get(k), v); });
  });
  const clone = function (v, seen) {
    if (v === null || typeof v !== 'object') {
      if (typeof v === 'function' || typeof v === 'symbol') throw new TypeError('structuredClone: ' + typeof v + ' could not be cloned');
      return v;
    }
    if (seen.has(v)) return seen.get(v);
    let out;
    if (v instanceof NativeDate) { out = new SafeDate(apply(getTime, v, [])); seen.set(v, out); return out; }
    if (v instanceof NativeRegExp) { out = new NativeRegExp(v.source, v.flags); seen.set(v, out); return out; }
    if (v instanceof Map) { out = new Map(); seen.set(v, out); v.forEach(function (val, k) { out.set(clone(k, seen), clone(val, seen)); }); return out; }
    if (v instanceof Set) { out = new Set(); seen.set(v, out); v.forEach(function (val) { out.add(clone(val, seen)); }); return out; }
    if (isArray(v)) {
      const n = checkLen(v, 'the array');
      out = new A(n); seen.set(v, out);
      for (let i = 0; i < n; i++) if (i in v) out[i] = clone(v[i], seen);
      return out;
    }
    out = {}; seen.set(v, out);
    const ks = objectKeys(v);
    for (let i = 0; i < ks.length; i++) out[ks[i]] = clone(v[ks[i]], seen);
    return out;
  };
  hide(G, 'structuredClone', function structuredClone(v) { return clone(v, new Map()); });

  // ---- console, process, files ----
  const ident = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
  const inspect = function (v, depth, seen, budget) {
    if (typeof v === 'string') return depth === 0 ? v : "'" + apply(strReplace, v, [/'/g, "\\'"]) + "'";
    if (typeof v === 'number') return v === 0 && 1 / v < 0 ? '-0' : S(v);
    if (typeof v === 'bigint') return S(v) + 'n';
    if (typeof v === 'symbol') return v.toString();
    if (typeof v === 'function') return '[Function: ' + (v.name || '(anonymous)') + ']';
    if (v === undefined) return 'undefined';
    if (v === null) return 'null';
    if (typeof v !== 'object') return S(v);
    if (apply(nativeIndexOf, seen, [v]) >= 0) return '[Circular]';
    if (v instanceof NativeDate) { const t = apply(getTime, v, []); return t !== t ? 'Invalid Date' : apply(toISO, v, []); }
    if (v instanceof NativeRegExp) return S(v);
    if (v instanceof Error) return v.stack ? S(v.stack) : S(v);
    if (depth > 3) return isArray(v) ? '[Array]' : '[Object]';
    push(seen, v);
    const items = [];
    let used = 0, more = 0, open = '{', close = '}', prefix = '';
    const add = function (s) { used += s.length + 2; push(items, s); return used < budget; };
    if (isArray(v)) {
      open = '['; close = ']';
      const n = lenOf(v);
      for (let i = 0; i < n; i++) {
        if (i >= 100 || used >= budget) { more = n - i; break; }
        add(inspect(v[i], depth + 1, seen, budget - used));
      }
      if (more > 0) push(items, '... ' + more + ' more item' + (more > 1 ? 's' : ''));
    } else if (v instanceof Map) {
      prefix = 'Map(' + v.size + ') ';
      v.forEach(function (val, k) { if (used < budget) add(inspect(k, depth + 1, seen, budget - used) + ' => ' + inspect(val, depth + 1, seen, budget - used)); });
    } else if (v instanceof Set) {
      prefix = 'Set(' + v.size + ') ';
      v.forEach(function (val) { if (used < budget) add(inspect(val, depth + 1, seen, budget - used)); });
    } else {
      const ks = objectKeys(v);
      for (let i = 0; i < ks.length; i++) {
        if (i >= 100 || used >= budget) { more = ks.length - i; break; }
        const k = ks[i];
        add((reTest(ident, k) ? k : "'" + k + "'") + ': ' + inspect(v[k], depth + 1, seen, budget - used));
      }
      if (more > 0) push(items, '... ' + more + ' more propert' + (more > 1 ? 'ies' : 'y'));
    }
    seen.length = seen.length - 1;
    if (items.length === 0) return prefix + open + close;
    const body = apply(nativeJoin, items, [', ']);
    if (body.length > 72 && depth === 0) return prefix + open + '\n  ' + apply(nativeJoin, items, [',\n  ']) + '\n' + close;
    return prefix + open + ' ' + body + ' ' + close;
  };
  const format = function (args) {
    const out = [];
    let i = 0;
    if (typeof args[0] === 'string' && args.length > 1 && reTest(/%[sdifjoOc%]/, args[0])) {
      i = 1;
      const f = apply(strReplace, args[0], [/%([sdifjoOc%])/g, function (m, c) {
        if (c === '%') return '%';
        if (i >= args.length) return m;
        const a = args[i++];
        if (c === 's') return typeof a === 'string' ? a : inspect(a, 1, [], host.maxOutput);
        if (c === 'd' || c === 'i') return S(c === 'i' ? M.trunc(N(a)) : N(a));
        if (c === 'f') return S(N(a));
        if (c === 'j') return stringify(a);
        if (c === 'c') return '';
        return inspect(a, 1, [], host.maxOutput);
      }]);
      push(out, f);
    }
    for (; i < args.length; i++) push(out, inspect(args[i], 0, [], host.maxOutput));
    return apply(nativeJoin, out, [' ']) + '\n';
  };
  const table = function (data) {
    if (data === null || typeof data !== 'object') return format([data]);
    const rows = isArray(data) ? data : objectKeys(data);
    const keys = isArray(data) ? null : rows;
    const cols = [];
    const n = min(lenOf(rows), 1000);
    let values = false;
    for (let i = 0; i < n; i++) {
      const r = keys ? data[keys[i]] : rows[i];
      if (r !== null && typeof r === 'object') { const ks = objectKeys(r); for (let j = 0; j < ks.length; j++) if (apply(nativeIndexOf, cols, [ks[j]]) < 0) push(cols, ks[j]); }
      else values = true;
    }
    const head = ['(index)'];
    for (let j = 0; j < cols.length; j++) push(head, cols[j]);
    if (values) push(head, 'Values');
    const grid = [head];
    for (let i = 0; i < n; i++) {
      const r = keys ? data[keys[i]] : rows[i];
      const line = [keys ? keys[i] : S(i)];
      for (let j = 0; j < cols.length; j++) line[line.length] = r !== null && typeof r === 'object' && cols[j] in r ? inspect(r[cols[j]], 1, [], 200) : '';
      if (values) line[line.length] = r !== null && typeof r === 'object' ? '' : inspect(r, 1, [], 200);
      push(grid, line);
    }
    const w = [];
    for (let j = 0; j < head.length; j++) { let m = 0; for (let i = 0; i < grid.length; i++) m = max(m, S(grid[i][j]).length); w[j] = m + 2; }
    const line = function (l, m, r) { const segs = []; for (let j = 0; j < w.length; j++) push(segs, apply(strRepeat, '─', [w[j]])); return l + apply(nativeJoin, segs, [m]) + r + '\n'; };
    const row = function (cells) {
      const segs = [];
      for (let j = 0; j < w.length; j++) { const c = S(cells[j]); const left = floor((w[j] - c.length) / 2); push(segs, apply(strRepeat, ' ', [left]) + c + apply(strRepeat, ' ', [w[j] - c.length - left])); }
      return '│' + apply(nativeJoin, segs, ['│']) + '│\n';
    };
    let out = line('┌', '┬', '┐') + row(head) + line('├', '┼', '┤');
    for (let i = 1; i < grid.length; i++) out += row(grid[i]);
    return out + line('└', '┴', '┘');
  };
  const logTo = function (stream) { return function (...args) { write(stream, format(args)); }; };
  const consoleObj = {
    log: logTo(1), info: logTo(1), debug: logTo(1), trace: logTo(2), warn: logTo(2), error: logTo(2),
    table: function (data) { write(1, table(data)); },
    dir: function (v) { write(1, inspect(v, 0, [], host.maxOutput) + '\n'); },
    assert: function (cond, ...args) { if (!cond) write(2, 'Assertion failed' + (args.length ? ': ' + format(args) : '\n')); },
    group: function () { }, groupEnd: function () { }, time: function () { }, timeEnd: function () { }, count: function () { }
  };
  hide(G, 'console', freeze(consoleObj));

  const files = {
    readFileSync: function readFileSync(p, opts) { return host.readFile(S(p)); },
    writeFileSync: function writeFileSync(p, data) { host.writeFile(S(p), typeof data === 'string' ? data : S(data), false); },
    appendFileSync: function appendFileSync(p, data) { host.writeFile(S(p), typeof data === 'string' ? data : S(data), true); },
    existsSync: function existsSync(p) { return host.exists(S(p)); },
    readdirSync: function readdirSync(dir) { return host.listDir(dir === undefined ? '.' : S(dir)); },
    unlinkSync: function unlinkSync(p) { host.removeFile(S(p)); },
    mkdirSync: function mkdirSync() { },
    statSync: function statSync(p) { const size = host.fileSize(S(p)); return { size, isFile: function () { return true; }, isDirectory: function () { return false; } }; }
  };
  files.promises = freeze({
    readFile: async function readFile(p, o) { return files.readFileSync(p, o); },
    writeFile: async function writeFile(p, d) { return files.writeFileSync(p, d); },
    appendFile: async function appendFile(p, d) { return files.appendFileSync(p, d); },
    readdir: async function readdir(d) { return files.readdirSync(d); },
    unlink: async function unlink(p) { return files.unlinkSync(p); }
  });
  freeze(files);
  const pathModule = freeze({
    sep: '/',
    join: function join(...ps) { return apply(strReplace, apply(nativeJoin, ps, ['/']), [/\/+/g, '/']); },
    basename: function basename(p, ext) { p = S(p); let b = apply(strSlice, p, [apply(SP.lastIndexOf, p, ['/']) + 1]); if (ext && apply(SP.endsWith, b, [ext])) b = apply(strSlice, b, [0, -ext.length]); return b; },
    dirname: function dirname(p) { p = S(p); const i = apply(SP.lastIndexOf, p, ['/']); return i < 0 ? '.' : i === 0 ? '/' : apply(strSlice, p, [0, i]); },
    extname: function extname(p) { p = S(p); const b = apply(strSlice, p, [apply(SP.lastIndexOf, p, ['/']) + 1]); const i = apply(SP.lastIndexOf, b, ['.']); return i <= 0 ? '' : apply(strSlice, b, [i]); },
    resolve: function resolve(...ps) { return '/' + apply(strReplace, apply(nativeJoin, ps, ['/']), [/^\/+/, '']); }
  });
  hide(G, 'require', function require(name) {
    name = S(name);
    if (name === 'fs' || name === 'node:fs') return files;
    if (name === 'fs/promises' || name === 'node:fs/promises') return files.promises;
    if (name === 'path' || name === 'node:path') return pathModule;
    throw new Error("Cannot find module '" + name + "': this sandbox offers only 'fs' (its own files) and 'path'; there is no network and there are no packages");
  });
  hide(G, 'readFile', function readFile(p) { return host.readFile(S(p)); });
  hide(G, 'writeFile', function writeFile(p, data) { host.writeFile(S(p), typeof data === 'string' ? data : stringify(data, null, 2), false); });
  hide(G, 'listFiles', function listFiles() { return host.listDir('.'); });
  hide(G, 'process', freeze({
    env: freeze({}), argv: freeze(['sandbox']), platform: 'sandbox', version: 'v0', versions: freeze({}),
    stdout: freeze({ write: function (s) { write(1, S(s)); return true; } }),
    stderr: freeze({ write: function (s) { write(2, S(s)); return true; } }),
    exit: function exit(code) { host.exit(code === undefined ? 0 : N(code)); },
    cwd: function cwd() { return '/'; },
    memoryUsage: function () { return { heapUsed: 0, rss: 0 }; }
  }));
  hide(G, 'performance', freeze({ now: function now() { return NativeDate.now(); } }));
  hide(G, 'global', G);

  return { toJSON: function (v, most) { const s = stringify(v); return s === undefined ? undefined : s; } };
})
