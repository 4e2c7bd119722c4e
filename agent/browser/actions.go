package browser

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/chromedp/cdproto/accessibility"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/dom"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/bedrockkit/bedrockkit"
)

// PageState is where a session is after an action.
type PageState struct {
	// URL and Title are the page's; both are page-controlled text.
	URL   string
	Title string
	// Navigated reports whether the action loaded a new page.
	Navigated bool
	// Loading reports that the page was still loading when the action's
	// time was up.
	Loading bool
	// Notices report what happened since the previous action: requests
	// and windows blocked, dialogs dismissed, downloads. They quote
	// page-controlled text.
	Notices []string
}

// PageContent is a page read as text or as an accessibility tree.
type PageContent struct {
	PageState
	// Text is the page's visible text, or its accessibility tree: one
	// element per line, indented, with [ref=eN] on the elements the model
	// can act on.
	Text string
	// Truncated reports that Text was cut at Options.MaxReadBytes.
	Truncated bool
}

// Element is an element the model can act on, by Ref.
type Element struct {
	Ref  string `json:"ref"`
	Role string `json:"role"`
	Name string `json:"name"`
}

// maxTypeChars bounds the text one Type call enters.
const maxTypeChars = 10000

// Open loads rawURL, which must be an http or https URL of an allowed
// origin, and waits for it to load.
func (t *Tab) Open(ctx context.Context, rawURL string) (*PageState, error) {
	u, err := url.Parse(strings.TrimSpace(rawURL))
	if err != nil || !u.IsAbs() {
		return nil, fmt.Errorf("browser: %q is not an absolute URL: %w", rawURL, bedrockkit.ErrInvalidInput)
	}
	if u.User != nil {
		return nil, fmt.Errorf("browser: URLs with a user name or password are refused; use a login: %w", ErrNotAllowed)
	}
	if !t.allow.allows(u.String()) {
		return nil, fmt.Errorf("browser: %s is not one of the allowed origins (%s): %w", originForNote(u.String()), t.allow, ErrNotAllowed)
	}
	actx, done, err := t.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	before := t.loadStarts()
	res, err := chromedp.Call(actx, page.Navigate, page.NavigateParams{URL: u.String()})
	if err != nil {
		return nil, t.actionError(actx, "open the page", err)
	}
	// A same-document navigation (a #fragment) loads nothing: do not wait
	// for a load.
	st := t.settle(actx, before, res.LoaderID != "")
	if res.ErrorText != "" {
		if uerr := t.usable(); uerr != nil {
			return st, uerr
		}
		return st, fmt.Errorf("browser: the page could not be loaded (%s)%s: %w", res.ErrorText, noticeSuffix(st), bedrockkit.ErrNotFound)
	}
	if res.IsDownload {
		st.Navigated = false
	}
	return st, nil
}

// noticeSuffix quotes the notices in an error message.
func noticeSuffix(st *PageState) string {
	if st == nil || len(st.Notices) == 0 {
		return ""
	}
	return "; " + strings.Join(st.Notices, "; ")
}

// loadStarts returns how many main-frame loads have started.
func (t *Tab) loadStarts() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.starts
}

// settle waits for a load the action started (waiting briefly for one to
// start unless mustLoad) to finish, within actx, and returns the state.
func (t *Tab) settle(actx context.Context, before int, mustLoad bool) *PageState {
	grace := time.NewTimer(400 * time.Millisecond)
	defer grace.Stop()
	navigated, loading := false, false
	for {
		t.mu.Lock()
		if t.starts > before {
			navigated = true
		}
		loading = t.loading
		ch := t.changed
		t.mu.Unlock()
		if navigated && !loading {
			break
		}
		if !navigated && !mustLoad {
			select {
			case <-ch:
				continue
			case <-grace.C:
			case <-actx.Done():
			}
			break
		}
		select {
		case <-ch:
			continue
		case <-actx.Done():
		}
		break
	}
	st := t.state(actx)
	st.Navigated = navigated
	st.Loading = loading && actx.Err() != nil
	return st
}

// state reads the page's URL and title and takes the pending notices.
func (t *Tab) state(actx context.Context) *PageState {
	var title string
	if actx.Err() == nil {
		_ = t.eval(actx, `document.title || ""`, &title)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	st := &PageState{URL: t.red.apply(t.url), Title: t.red.apply(oneLine(title, 300))}
	for _, o := range t.refusedOrder {
		st.Notices = append(st.Notices, fmt.Sprintf("not loaded, because %s is not an allowed site: %s", o, strings.Join(t.refused[o], ", ")))
	}
	if t.refusedMore > 0 {
		st.Notices = append(st.Notices, fmt.Sprintf("(requests to %d more sites that are not allowed were not made)", t.refusedMore))
	}
	t.refused, t.refusedOrder, t.refusedMore = nil, nil, 0
	for _, n := range t.notices {
		st.Notices = append(st.Notices, t.red.apply(n))
	}
	if t.dropped > 0 {
		st.Notices = append(st.Notices, fmt.Sprintf("(%d more notices left out)", t.dropped))
	}
	t.notices, t.dropped = nil, 0
	return st
}

// actionError classifies a failed protocol call.
func (t *Tab) actionError(actx context.Context, what string, err error) error {
	if uerr := t.usable(); uerr != nil {
		return uerr
	}
	if errors.Is(actx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("browser: %s: the page did not answer within %s (it may be busy or hung): %w", what, t.opts.StepTimeout, context.DeadlineExceeded)
	}
	if errors.Is(err, ErrNoElement) || errors.Is(err, ErrLimitExceeded) || errors.Is(err, bedrockkit.ErrInvalidInput) {
		return err
	}
	return fmt.Errorf("browser: %s: %w", what, err)
}

// world returns an isolated JavaScript world of the current document:
// the page's scripts cannot change what the code run there sees.
func (t *Tab) world(actx context.Context) (runtime.ExecutionContextID, error) {
	t.mu.Lock()
	loader, frame, w := t.loaderID, t.mainFrame, t.isolated
	t.mu.Unlock()
	if w.id != 0 && w.loader == loader {
		return runtime.ExecutionContextID(w.id), nil
	}
	res, err := chromedp.Call(actx, page.CreateIsolatedWorld, page.CreateIsolatedWorldParams{FrameID: frame, WorldName: "bedrockkit-browser"})
	if err != nil {
		return 0, err
	}
	t.mu.Lock()
	if t.loaderID == loader {
		t.isolated = isolatedWorld{loader: loader, id: int64(res.ExecutionContextID)}
	}
	t.mu.Unlock()
	return res.ExecutionContextID, nil
}

// forgetWorld drops the cached world after it failed (the document
// changed under it).
func (t *Tab) forgetWorld() {
	t.mu.Lock()
	t.isolated = isolatedWorld{}
	t.mu.Unlock()
}

// eval evaluates expr in the isolated world and decodes its JSON value.
func (t *Tab) eval(actx context.Context, expr string, out any) error {
	var last error
	for attempt := 0; attempt < 2; attempt++ {
		cid, err := t.world(actx)
		if err != nil {
			return err
		}
		r, err := chromedp.Call(actx, runtime.Evaluate, runtime.EvaluateParams{
			Expression: expr, ContextID: cid, ReturnByValue: ptr(true), Silent: ptr(true),
		})
		if err != nil {
			last = err
			t.forgetWorld()
			continue
		}
		if r.ExceptionDetails != nil {
			return fmt.Errorf("browser: script failed: %s", r.ExceptionDetails.Text)
		}
		if r.Result == nil || len(r.Result.Value) == 0 {
			return fmt.Errorf("browser: script returned no value")
		}
		return json.Unmarshal([]byte(r.Result.Value), out)
	}
	return last
}

// pageSize measures the document against the size limits.
func (t *Tab) checkSize(actx context.Context) error {
	var size struct {
		Elements int `json:"elements"`
		HTML     int `json:"html"`
	}
	err := t.eval(actx, `(() => { const d = document.documentElement; return {elements: document.getElementsByTagName('*').length, html: d ? d.outerHTML.length : 0}; })()`, &size)
	if err != nil {
		return t.actionError(actx, "measure the page", err)
	}
	if size.Elements > t.opts.MaxElements {
		return &LimitError{Limit: LimitPageSize, Detail: fmt.Sprintf("the page has %d elements, more than %d; open a more specific page", size.Elements, t.opts.MaxElements)}
	}
	if size.HTML > t.opts.MaxPageBytes {
		return &LimitError{Limit: LimitPageSize, Detail: fmt.Sprintf("the page is %d bytes of HTML, more than %d; open a more specific page", size.HTML, t.opts.MaxPageBytes)}
	}
	return nil
}

// ReadText returns the page's visible text (what innerText gives: no
// markup, no hidden elements, no frames), cut at Options.MaxReadBytes.
func (t *Tab) ReadText(ctx context.Context) (*PageContent, error) {
	actx, done, err := t.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	if err := t.checkSize(actx); err != nil {
		return nil, err
	}
	var r struct {
		Text string `json:"text"`
		Len  int    `json:"len"`
	}
	max := t.opts.MaxReadBytes
	expr := fmt.Sprintf(`(() => { const b = document.body || document.documentElement; const s = b ? (b.innerText || '') : ''; return {text: s.slice(0, %d), len: s.length}; })()`, max)
	if err := t.eval(actx, expr, &r); err != nil {
		return nil, t.actionError(actx, "read the page", err)
	}
	text, cut := truncate(cleanText(r.Text), max)
	st := t.state(actx)
	t.mu.Lock()
	text = t.red.apply(text)
	t.mu.Unlock()
	return &PageContent{PageState: *st, Text: text, Truncated: cut || r.Len > len(r.Text)}, nil
}

// cleanText trims lines and collapses runs of blank lines.
func cleanText(s string) string {
	lines := strings.Split(strings.ReplaceAll(s, "\r", ""), "\n")
	out := lines[:0]
	blank := 0
	for _, l := range lines {
		l = strings.TrimSpace(l)
		if l == "" {
			blank++
			if blank > 1 {
				continue
			}
		} else {
			blank = 0
		}
		out = append(out, l)
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}

// ReadTree returns the page's accessibility tree: roles, names, values
// and states, one element per line, with a reference ([ref=eN]) on every
// element the model can act on. References stay valid while the page
// stays the same document.
func (t *Tab) ReadTree(ctx context.Context) (*PageContent, error) {
	actx, done, err := t.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	text, cut, err := t.readTree(actx)
	if err != nil {
		return nil, err
	}
	st := t.state(actx)
	return &PageContent{PageState: *st, Text: text, Truncated: cut}, nil
}

// maxRefs bounds the references a session remembers for one document.
const maxRefs = 50000

func (t *Tab) readTree(actx context.Context) (string, bool, error) {
	if err := t.checkSize(actx); err != nil {
		return "", false, err
	}
	t.mu.Lock()
	loader := t.loaderID
	t.mu.Unlock()
	tree, err := chromedp.Call(actx, accessibility.GetFullAXTree, accessibility.GetFullAXTreeParams{})
	if err != nil {
		return "", false, t.actionError(actx, "read the accessibility tree", err)
	}
	text, refs, cut := renderTree(tree.Nodes, treeLimits{MaxBytes: t.opts.MaxReadBytes})
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.loaderID == loader {
		if len(t.refs)+len(refs) > maxRefs {
			t.refs = map[cdp.BackendNodeID]element{}
		}
		for id, e := range refs {
			t.refs[id] = e
		}
	}
	return t.red.apply(text), cut, nil
}

// Find reads the accessibility tree and returns the elements the model
// can act on whose name contains query (ignoring case), of the given
// role if role is not empty; at most 25.
func (t *Tab) Find(ctx context.Context, query, role string) ([]Element, *PageState, error) {
	actx, done, err := t.begin(ctx)
	if err != nil {
		return nil, nil, err
	}
	defer done()
	if _, _, err := t.readTree(actx); err != nil {
		return nil, nil, err
	}
	q := strings.ToLower(strings.Join(strings.Fields(query), " "))
	role = strings.ToLower(strings.TrimSpace(role))
	t.mu.Lock()
	var found []Element
	for _, e := range t.refs {
		if (role == "" || strings.ToLower(e.Role) == role) && strings.Contains(strings.ToLower(e.Name), q) {
			found = append(found, Element{Ref: e.Ref, Role: e.Role, Name: t.red.apply(e.Name)})
		}
	}
	t.mu.Unlock()
	slices.SortFunc(found, func(a, b Element) int {
		ia, _ := parseRef(a.Ref)
		ib, _ := parseRef(b.Ref)
		return int(ia - ib)
	})
	if len(found) > 25 {
		found = found[:25]
	}
	return found, t.state(actx), nil
}

// node resolves a reference the session showed for the current document
// to a JavaScript object in the isolated world.
func (t *Tab) node(actx context.Context, ref string) (cdp.BackendNodeID, element, runtime.RemoteObjectID, error) {
	id, ok := parseRef(ref)
	if !ok {
		return 0, element{}, "", fmt.Errorf("browser: %q is not an element reference (they look like e42: read the page to get them): %w", ref, ErrNoElement)
	}
	t.mu.Lock()
	e, known := t.refs[id]
	t.mu.Unlock()
	if !known {
		return 0, element{}, "", fmt.Errorf("browser: %s is not on the current page (it changed, or the reference was never shown): read the page again: %w", ref, ErrNoElement)
	}
	cid, err := t.world(actx)
	if err != nil {
		return 0, element{}, "", t.actionError(actx, "find the element", err)
	}
	r, err := chromedp.Call(actx, dom.ResolveNode, dom.ResolveNodeParams{BackendNodeID: id, ExecutionContextID: cid})
	if err != nil || r.Object == nil || r.Object.ObjectID == "" {
		if uerr := t.usable(); uerr != nil {
			return 0, element{}, "", uerr
		}
		return 0, element{}, "", fmt.Errorf("browser: %s is no longer on the page: read the page again: %w", ref, ErrNoElement)
	}
	return id, e, r.Object.ObjectID, nil
}

// callOn calls a function with this = obj in the isolated world and
// decodes its JSON result into out (if not nil).
func (t *Tab) callOn(actx context.Context, obj runtime.RemoteObjectID, fn string, out any, args ...any) error {
	var cargs []*runtime.CallArgument
	for _, a := range args {
		b, err := json.Marshal(a)
		if err != nil {
			return err
		}
		cargs = append(cargs, &runtime.CallArgument{Value: b})
	}
	r, err := chromedp.Call(actx, runtime.CallFunctionOn, runtime.CallFunctionOnParams{
		FunctionDeclaration: fn, ObjectID: obj, Arguments: cargs, ReturnByValue: ptr(true), Silent: ptr(true),
	})
	if err != nil {
		return err
	}
	if r.ExceptionDetails != nil {
		return fmt.Errorf("browser: script failed: %s", r.ExceptionDetails.Text)
	}
	if out != nil && r.Result != nil && len(r.Result.Value) > 0 {
		return json.Unmarshal([]byte(r.Result.Value), out)
	}
	return nil
}

// Click clicks the element's centre with the mouse, after scrolling it
// into view and checking that no other element covers it, and waits for
// any page load it causes.
func (t *Tab) Click(ctx context.Context, ref string) (*PageState, error) {
	actx, done, err := t.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	id, _, obj, err := t.node(actx, ref)
	if err != nil {
		return nil, err
	}
	x, y, err := t.clickPoint(actx, id, obj, ref)
	if err != nil {
		return nil, err
	}
	before := t.loadStarts()
	for _, ev := range []input.DispatchMouseEventParams{
		{Type: input.DispatchMouseEventTypeMouseMoved, X: x, Y: y},
		{Type: input.DispatchMouseEventTypeMousePressed, X: x, Y: y, Button: input.MouseButtonLeft, Buttons: 1, ClickCount: 1},
		{Type: input.DispatchMouseEventTypeMouseReleased, X: x, Y: y, Button: input.MouseButtonLeft, ClickCount: 1},
	} {
		if _, err := chromedp.Call(actx, input.DispatchMouseEvent, ev); err != nil {
			return nil, t.actionError(actx, "click", err)
		}
	}
	return t.settle(actx, before, false), nil
}

// clickPoint scrolls the element into view and returns its centre, if
// the element itself (or something inside it) is what a click there hits.
func (t *Tab) clickPoint(actx context.Context, id cdp.BackendNodeID, obj runtime.RemoteObjectID, ref string) (float64, float64, error) {
	_, _ = chromedp.Call(actx, dom.ScrollIntoViewIfNeeded, dom.ScrollIntoViewIfNeededParams{BackendNodeID: id})
	q, err := chromedp.Call(actx, dom.GetContentQuads, dom.GetContentQuadsParams{BackendNodeID: id})
	if err != nil {
		return 0, 0, fmt.Errorf("browser: %s has no box on the page (hidden or not rendered): %w", ref, ErrNoElement)
	}
	for _, quad := range q.Quads {
		if len(quad) != 8 {
			continue
		}
		x := (quad[0] + quad[2] + quad[4] + quad[6]) / 4
		y := (quad[1] + quad[3] + quad[5] + quad[7]) / 4
		w := max(quad[0], quad[2], quad[4], quad[6]) - min(quad[0], quad[2], quad[4], quad[6])
		h := max(quad[1], quad[3], quad[5], quad[7]) - min(quad[1], quad[3], quad[5], quad[7])
		if w < 1 || h < 1 {
			continue
		}
		var hit struct {
			OK  bool   `json:"ok"`
			Tag string `json:"tag"`
		}
		err := t.callOn(actx, obj, `function(x, y) {
  const h = document.elementFromPoint(x, y);
  if (!h) return {ok: false, tag: ''};
  const ok = h === this || this.contains(h) || (this.labels && Array.from(this.labels).some(l => l === h || l.contains(h)));
  return {ok: ok, tag: h.tagName.toLowerCase()};
}`, &hit, x, y)
		if err != nil {
			return 0, 0, t.actionError(actx, "check the element", err)
		}
		if !hit.OK {
			return 0, 0, fmt.Errorf("browser: %s is covered by another element (%s) at its centre; close what covers it, or read the page again: %w", ref, hit.Tag, ErrNoElement)
		}
		return x, y, nil
	}
	return 0, 0, fmt.Errorf("browser: %s has no visible box on the page: %w", ref, ErrNoElement)
}

// fieldInfo describes a form field.
type fieldInfo struct {
	Tag      string `json:"tag"`
	Type     string `json:"type"`
	Editable bool   `json:"editable"`
	Disabled bool   `json:"disabled"`
	ReadOnly bool   `json:"readonly"`
}

const fieldInfoJS = `function() {
  return {tag: this.tagName.toLowerCase(), type: (this.type || '').toLowerCase(), editable: !!this.isContentEditable,
    disabled: !!this.disabled, readonly: !!this.readOnly};
}`

const focusSelectJS = `function() {
  this.focus();
  if (typeof this.select === 'function') { this.select(); return; }
  const r = document.createRange(); r.selectNodeContents(this);
  const s = window.getSelection(); s.removeAllRanges(); s.addRange(r);
}`

// textTypes are the input types Type writes into.
var textTypes = map[string]bool{"": true, "text": true, "search": true, "email": true, "tel": true, "url": true, "number": true, "password": true, "date": true, "time": true, "datetime-local": true, "month": true, "week": true}

// Type replaces the text of a text field (input, textarea or editable
// element) with text, then presses Enter if submit is set.
func (t *Tab) Type(ctx context.Context, ref, text string, submit bool) (*PageState, error) {
	if len([]rune(text)) > maxTypeChars {
		return nil, fmt.Errorf("browser: text of %d characters is longer than %d: %w", len([]rune(text)), maxTypeChars, bedrockkit.ErrInvalidInput)
	}
	actx, done, err := t.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	_, _, obj, err := t.node(actx, ref)
	if err != nil {
		return nil, err
	}
	if err := t.checkField(actx, obj, ref, func(f fieldInfo) bool {
		return f.Editable || f.Tag == "textarea" || (f.Tag == "input" && textTypes[f.Type])
	}, "a text field"); err != nil {
		return nil, err
	}
	return t.typeInto(actx, obj, text, submit)
}

func (t *Tab) checkField(actx context.Context, obj runtime.RemoteObjectID, ref string, ok func(fieldInfo) bool, want string) error {
	var f fieldInfo
	if err := t.callOn(actx, obj, fieldInfoJS, &f); err != nil {
		return t.actionError(actx, "inspect the element", err)
	}
	if f.Disabled || f.ReadOnly {
		return fmt.Errorf("browser: %s is disabled or read-only: %w", ref, ErrNoElement)
	}
	if !ok(f) {
		kind := f.Tag
		if f.Type != "" {
			kind += " type=" + f.Type
		}
		return fmt.Errorf("browser: %s is a %s, not %s: %w", ref, kind, want, ErrNoElement)
	}
	return nil
}

func (t *Tab) typeInto(actx context.Context, obj runtime.RemoteObjectID, text string, submit bool) (*PageState, error) {
	if err := t.callOn(actx, obj, focusSelectJS, nil); err != nil {
		return nil, t.actionError(actx, "focus the field", err)
	}
	if text == "" {
		if _, err := chromedp.Call(actx, input.DispatchKeyEvent, input.DispatchKeyEventParams{Type: input.DispatchKeyEventTypeRawKeyDown, Key: "Delete", Code: "Delete", WindowsVirtualKeyCode: 46}); err != nil {
			return nil, t.actionError(actx, "clear the field", err)
		}
		_, _ = chromedp.Call(actx, input.DispatchKeyEvent, input.DispatchKeyEventParams{Type: input.DispatchKeyEventTypeKeyUp, Key: "Delete", Code: "Delete", WindowsVirtualKeyCode: 46})
	} else if _, err := chromedp.Call(actx, input.InsertText, input.InsertTextParams{Text: text}); err != nil {
		return nil, t.actionError(actx, "type", err)
	}
	before := t.loadStarts()
	if submit {
		for _, ev := range []input.DispatchKeyEventParams{
			{Type: input.DispatchKeyEventTypeKeyDown, Key: "Enter", Code: "Enter", Text: "\r", UnmodifiedText: "\r", WindowsVirtualKeyCode: 13, NativeVirtualKeyCode: 13},
			{Type: input.DispatchKeyEventTypeKeyUp, Key: "Enter", Code: "Enter", WindowsVirtualKeyCode: 13, NativeVirtualKeyCode: 13},
		} {
			if _, err := chromedp.Call(actx, input.DispatchKeyEvent, ev); err != nil {
				return nil, t.actionError(actx, "press Enter", err)
			}
		}
	}
	return t.settle(actx, before, false), nil
}

// Select chooses the option of a <select> whose value, label or text is
// option.
func (t *Tab) Select(ctx context.Context, ref, option string) (*PageState, error) {
	actx, done, err := t.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	_, _, obj, err := t.node(actx, ref)
	if err != nil {
		return nil, err
	}
	var res string
	err = t.callOn(actx, obj, `function(v) {
  if (this.tagName !== 'SELECT') return 'notselect';
  const want = v.trim().toLowerCase();
  const o = Array.from(this.options).find(o => o.value === v || o.label.trim().toLowerCase() === want || o.text.trim().toLowerCase() === want);
  if (!o) return 'nooption';
  if (o.disabled || this.disabled) return 'disabled';
  this.value = o.value;
  this.dispatchEvent(new Event('input', {bubbles: true}));
  this.dispatchEvent(new Event('change', {bubbles: true}));
  return '';
}`, &res, option)
	if err != nil {
		return nil, t.actionError(actx, "select", err)
	}
	switch res {
	case "notselect":
		return nil, fmt.Errorf("browser: %s is not a drop-down list (select); click it instead: %w", ref, ErrNoElement)
	case "nooption":
		return nil, fmt.Errorf("browser: %s has no option %q; read the page to see its options: %w", ref, option, ErrNoElement)
	case "disabled":
		return nil, fmt.Errorf("browser: that option of %s is disabled: %w", ref, ErrNoElement)
	}
	before := t.loadStarts()
	return t.settle(actx, before, false), nil
}

// Submit submits the form the element is (or is in), as pressing its
// submit button would (the form's validation and handlers run), and
// waits for the page it loads.
func (t *Tab) Submit(ctx context.Context, ref string) (*PageState, error) {
	actx, done, err := t.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	_, _, obj, err := t.node(actx, ref)
	if err != nil {
		return nil, err
	}
	before := t.loadStarts()
	var ok bool
	err = t.callOn(actx, obj, `function() {
  const f = this.tagName === 'FORM' ? this : (this.form || this.closest('form'));
  if (!f) return false;
  if (typeof f.requestSubmit === 'function') f.requestSubmit(); else f.submit();
  return true;
}`, &ok)
	if err != nil {
		return nil, t.actionError(actx, "submit", err)
	}
	if !ok {
		return nil, fmt.Errorf("browser: %s is not in a form; click its button instead: %w", ref, ErrNoElement)
	}
	return t.settle(actx, before, false), nil
}

// WaitFor waits up to timeout (at most Options.StepTimeout) until the
// page's text contains text, or, with text empty, until the page has
// finished loading.
func (t *Tab) WaitFor(ctx context.Context, text string, timeout time.Duration) (*PageState, error) {
	actx, done, err := t.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	if timeout > 0 {
		var cancel context.CancelFunc
		actx, cancel = context.WithTimeout(actx, timeout)
		defer cancel()
	}
	if text == "" {
		st := t.settle(actx, t.loadStarts(), false)
		return st, nil
	}
	lit, _ := json.Marshal(text)
	expr := `(() => { const b = document.body || document.documentElement; return !!b && (b.innerText || '').includes(` + string(lit) + `); })()`
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		var found bool
		if err := t.eval(actx, expr, &found); err == nil && found {
			return t.state(actx), nil
		}
		select {
		case <-actx.Done():
			if uerr := t.usable(); uerr != nil {
				return nil, uerr
			}
			return t.state(context.Background()), fmt.Errorf("browser: %q did not appear on the page in time: %w", text, context.DeadlineExceeded)
		case <-tick.C:
		}
	}
}

// maxScreenshotBytes is the largest image the model is sent (Bedrock
// takes up to 3.75 MB).
const maxScreenshotBytes = 3_500_000

// Screenshot captures the visible part of the page as a PNG (a JPEG if
// the PNG would be too large for a model).
func (t *Tab) Screenshot(ctx context.Context) (bedrockkit.Image, *PageState, error) {
	actx, done, err := t.begin(ctx)
	if err != nil {
		return bedrockkit.Image{}, nil, err
	}
	defer done()
	r, err := chromedp.Call(actx, page.CaptureScreenshot, page.CaptureScreenshotParams{Format: page.CaptureScreenshotFormatPng})
	if err != nil {
		return bedrockkit.Image{}, nil, t.actionError(actx, "take a screenshot", err)
	}
	img := bedrockkit.Image{Format: bedrockkit.ImagePNG, Bytes: r.Data}
	if len(r.Data) > maxScreenshotBytes {
		r, err = chromedp.Call(actx, page.CaptureScreenshot, page.CaptureScreenshotParams{Format: page.CaptureScreenshotFormatJpeg, Quality: ptr(int64(60))})
		if err != nil {
			return bedrockkit.Image{}, nil, t.actionError(actx, "take a screenshot", err)
		}
		if len(r.Data) > maxScreenshotBytes {
			return bedrockkit.Image{}, nil, &LimitError{Limit: LimitPageSize, Detail: "the screenshot is too large for the model; read the page instead"}
		}
		img = bedrockkit.Image{Format: bedrockkit.ImageJPEG, Bytes: r.Data}
	}
	return img, t.state(actx), nil
}

// FillCredential types one of a login's secrets — field "username" or
// "password" — into a field of the current page, which must belong to
// the login's origin: the secret comes from Options.Credentials, never
// from the model, and is redacted from every later result.
func (t *Tab) FillCredential(ctx context.Context, ref, login, field string) (*PageState, error) {
	l, ok := t.logins[login]
	if !ok {
		names := make([]string, 0, len(t.logins))
		for n := range t.logins {
			names = append(names, n)
		}
		slices.Sort(names)
		return nil, fmt.Errorf("browser: no login named %q (logins: %s): %w", login, strings.Join(names, ", "), bedrockkit.ErrInvalidInput)
	}
	if field != "username" && field != "password" {
		return nil, fmt.Errorf("browser: field must be \"username\" or \"password\", not %q: %w", field, bedrockkit.ErrInvalidInput)
	}
	actx, done, err := t.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	want, _ := ParseOrigin(l.Origin)
	var href string
	if err := t.eval(actx, `location.href`, &href); err != nil {
		return nil, t.actionError(actx, "read the page's address", err)
	}
	t.mu.Lock()
	frameURL := t.url
	t.mu.Unlock()
	for _, u := range []string{href, frameURL} {
		if o, err := OriginOf(u); err != nil || o != want {
			return nil, fmt.Errorf("browser: login %q may only be used on %s, and this page is %s: %w", login, want, originForNote(u), ErrNotAllowed)
		}
	}
	_, _, obj, err := t.node(actx, ref)
	if err != nil {
		return nil, err
	}
	if err := t.checkField(actx, obj, ref, func(f fieldInfo) bool {
		if f.Tag != "input" {
			return false
		}
		if field == "password" {
			return f.Type == "password"
		}
		return f.Type == "" || f.Type == "text" || f.Type == "email" || f.Type == "tel"
	}, "a "+field+" input"); err != nil {
		return nil, err
	}
	name := l.Username
	if field == "password" {
		name = l.Password
	}
	secret, err := t.opts.Credentials.APIKey(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("browser: login %q: %w", login, err)
	}
	if secret.Empty() {
		return nil, fmt.Errorf("browser: login %q: the %s is empty: %w", login, field, bedrockkit.ErrNotFound)
	}
	t.mu.Lock()
	t.red.add(secret.Reveal())
	t.mu.Unlock()
	return t.typeInto(actx, obj, secret.Reveal(), false)
}

// Upload puts the file Options.UploadFiles names file into the page's
// file input ref.
func (t *Tab) Upload(ctx context.Context, ref, file string) (*PageState, error) {
	path, ok := t.opts.UploadFiles[file]
	if !ok {
		if len(t.opts.UploadFiles) == 0 {
			return nil, fmt.Errorf("browser: uploads are disabled: %w", ErrNotAllowed)
		}
		return nil, fmt.Errorf("browser: no upload file named %q: %w", file, bedrockkit.ErrInvalidInput)
	}
	actx, done, err := t.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	id, _, obj, err := t.node(actx, ref)
	if err != nil {
		return nil, err
	}
	if err := t.checkField(actx, obj, ref, func(f fieldInfo) bool { return f.Tag == "input" && f.Type == "file" }, "a file input"); err != nil {
		return nil, err
	}
	if _, err := chromedp.Call(actx, dom.SetFileInputFiles, dom.SetFileInputFilesParams{Files: []string{path}, BackendNodeID: id}); err != nil {
		return nil, t.actionError(actx, "upload", err)
	}
	return t.settle(actx, t.loadStarts(), false), nil
}
