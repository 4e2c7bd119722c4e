package browser

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/chromedp/cdproto/accessibility"
	"github.com/chromedp/cdproto/cdp"
)

// element is what the tab knows of an element it showed the model.
type element struct {
	Ref  string
	Role string
	Name string
}

// refOf returns the reference the model sees for a DOM node: its backend
// node ID, which stays the same for the node's life in the document.
func refOf(id cdp.BackendNodeID) string { return "e" + strconv.FormatInt(int64(id), 10) }

// parseRef reads a reference back.
func parseRef(ref string) (cdp.BackendNodeID, bool) {
	ref = strings.TrimSpace(ref)
	if len(ref) < 2 || len(ref) > 12 || ref[0] != 'e' {
		return 0, false
	}
	n, err := strconv.ParseInt(ref[1:], 10, 64)
	if err != nil || n <= 0 || strconv.FormatInt(n, 10) != ref[1:] {
		return 0, false
	}
	return cdp.BackendNodeID(n), true
}

// interactiveRoles get a reference: the model can act on them.
var interactiveRoles = map[string]bool{
	"link": true, "button": true, "textbox": true, "searchbox": true, "checkbox": true,
	"radio": true, "combobox": true, "listbox": true, "option": true, "menuitem": true,
	"menuitemcheckbox": true, "menuitemradio": true, "tab": true, "switch": true,
	"slider": true, "spinbutton": true, "treeitem": true, "form": true, "textarea": true,
}

// silentRoles are structure without meaning of their own: their children
// are shown in their place.
var silentRoles = map[string]bool{
	"none": true, "generic": true, "presentation": true, "InlineTextBox": true,
	"LineBreak": true, "RootWebArea": true, "WebArea": true, "LabelText": true,
	"paragraph": true, "Section": true, "group": false, "list": false,
}

// shownProperties are the states worth telling the model.
var shownProperties = []accessibility.PropertyName{
	accessibility.PropertyNameChecked, accessibility.PropertyNameSelected, accessibility.PropertyNameExpanded,
	accessibility.PropertyNamePressed, accessibility.PropertyNameDisabled, accessibility.PropertyNameRequired,
	accessibility.PropertyNameInvalid, accessibility.PropertyNameReadonly, accessibility.PropertyNameLevel,
	accessibility.PropertyNameFocused,
}

// axString returns an accessibility value as text.
func axString(v *accessibility.Value) string {
	if v == nil || len(v.Value) == 0 {
		return ""
	}
	raw := []byte(v.Value)
	var s string
	if raw[0] == '"' {
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
		return ""
	}
	var x any
	if json.Unmarshal(raw, &x) != nil {
		return ""
	}
	switch t := x.(type) {
	case bool:
		return strconv.FormatBool(t)
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	}
	return ""
}

// oneLine collapses whitespace and cuts a name to a bounded length.
func oneLine(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if t, cut := truncate(s, max); cut {
		return t + "…"
	}
	return s
}

// treeLimits bound a rendered tree.
type treeLimits struct {
	MaxBytes int // of the rendered text
	MaxDepth int // of indentation
	MaxName  int // bytes of one name or value
}

// renderTree renders an accessibility tree (Accessibility.getFullAXTree)
// as indented lines — role, name, reference, value and states — and
// returns the elements given a reference. Ignored nodes are skipped but
// their children shown; text nodes repeating their parent's name are
// dropped. It never loops, whatever the parent/child IDs say.
func renderTree(nodes []*accessibility.Node, lim treeLimits) (string, map[cdp.BackendNodeID]element, bool) {
	if lim.MaxDepth <= 0 {
		lim.MaxDepth = 24
	}
	if lim.MaxName <= 0 {
		lim.MaxName = 300
	}
	byID := make(map[accessibility.NodeID]*accessibility.Node, len(nodes))
	for _, n := range nodes {
		if n != nil {
			if _, dup := byID[n.NodeID]; !dup {
				byID[n.NodeID] = n
			}
		}
	}
	refs := map[cdp.BackendNodeID]element{}
	var b strings.Builder
	truncated := false
	visited := make(map[accessibility.NodeID]bool, len(byID))
	stack := treeRoots(nodes, byID)
	for len(stack) > 0 && !truncated {
		f := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		n := f.n
		if visited[n.NodeID] {
			continue
		}
		visited[n.NodeID] = true
		name := oneLine(axString(n.Name), lim.MaxName)
		depth := f.depth
		shown := false
		if line := treeLine(n, name, f.parentName, lim, refs); line != "" {
			if b.Len()+len(line)+2*min(depth, lim.MaxDepth)+1 > lim.MaxBytes && lim.MaxBytes > 0 {
				truncated = true
				break
			}
			b.WriteString(strings.Repeat("  ", min(depth, lim.MaxDepth)))
			b.WriteString(line)
			b.WriteByte('\n')
			shown = true
		}
		childDepth, parentName := depth, f.parentName
		if shown {
			childDepth, parentName = depth+1, name
		}
		for i := len(n.ChildIDs) - 1; i >= 0; i-- {
			if c, ok := byID[n.ChildIDs[i]]; ok && !visited[c.NodeID] {
				stack = append(stack, treeFrame{n: c, depth: childDepth, parentName: parentName})
			}
		}
	}
	return b.String(), refs, truncated
}

// treeFrame is a node waiting to be rendered, with its indentation and the
// name of the nearest shown ancestor.
type treeFrame struct {
	n          *accessibility.Node
	depth      int
	parentName string
}

// treeRoots is the stack of the nodes whose parent is absent from the
// tree, the first in input order on top.
func treeRoots(nodes []*accessibility.Node, byID map[accessibility.NodeID]*accessibility.Node) []treeFrame {
	var stack []treeFrame
	for i := len(nodes) - 1; i >= 0; i-- {
		n := nodes[i]
		if n == nil || byID[n.NodeID] != n {
			continue
		}
		if _, ok := byID[n.ParentID]; !ok || n.ParentID == "" {
			stack = append(stack, treeFrame{n: n})
		}
	}
	return stack
}

// treeLine is the line of node n (named name), or "" when it is not shown:
// ignored, a text repeating its parent's name, or a silent or unnamed
// container.
func treeLine(n *accessibility.Node, name, parentName string, lim treeLimits, refs map[cdp.BackendNodeID]element) string {
	if n.Ignored {
		return ""
	}
	role := axString(n.Role)
	switch {
	case role == "StaticText":
		if name != "" && name != parentName {
			return name
		}
	case interactiveRoles[role] || (!silentRoles[role] && role != "" && (name != "" || role == "table" || role == "row" || role == "list" || role == "listitem" || role == "heading" || role == "cell" || role == "columnheader" || role == "rowheader" || role == "img" || role == "image" || role == "dialog" || role == "alert")):
		return nodeLine(n, role, name, lim, refs)
	}
	return ""
}

// nodeLine renders one node and records its reference if it gets one.
func nodeLine(n *accessibility.Node, role, name string, lim treeLimits, refs map[cdp.BackendNodeID]element) string {
	var b strings.Builder
	b.WriteString("- ")
	b.WriteString(role)
	if name != "" {
		b.WriteString(" ")
		b.WriteString(strconv.Quote(name))
	}
	focusable := false
	var states []string
	for _, p := range n.Properties {
		if p == nil {
			continue
		}
		if p.Name == accessibility.PropertyNameFocusable && axString(p.Value) == "true" {
			focusable = true
		}
		for _, want := range shownProperties {
			if p.Name != want {
				continue
			}
			v := axString(p.Value)
			switch {
			case v == "true":
				states = append(states, string(p.Name))
			case v != "" && v != "false":
				states = append(states, string(p.Name)+"="+oneLine(v, 20))
			}
		}
	}
	if n.BackendDOMNodeID > 0 && (interactiveRoles[role] || focusable) {
		ref := refOf(n.BackendDOMNodeID)
		refs[n.BackendDOMNodeID] = element{Ref: ref, Role: role, Name: name}
		fmt.Fprintf(&b, " [ref=%s]", ref)
	}
	if v := oneLine(axString(n.Value), lim.MaxName); v != "" {
		b.WriteString(" value=")
		b.WriteString(strconv.Quote(v))
	}
	if len(states) > 0 {
		b.WriteString(" (" + strings.Join(states, ", ") + ")")
	}
	return b.String()
}
