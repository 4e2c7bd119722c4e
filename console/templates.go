package console

import (
	"embed"
	"html/template"
	"net/url"
	"strings"
	"time"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets
var assets embed.FS

func parseTemplates() *template.Template {
	funcs := template.FuncMap{
		"dur":     fmtDur,
		"pathEsc": url.PathEscape,
		"join":    strings.Join,
		"add":     func(a, b int) int { return a + b },
		"clock":   func(t time.Time) string { return t.Format("15:04:05.000") },
		"date":    func(t time.Time) string { return t.Format(time.DateTime) },
		"until":   func(n int) []int { return make([]int, max(n, 0)) },
		"withBase": func(base string, v any) map[string]any {
			return map[string]any{"Base": base, "V": v}
		},
	}
	return template.Must(template.New("console").Funcs(funcs).ParseFS(templateFS, "templates/*.html"))
}
