package report

import (
	"html/template"

	"github.com/coldbench/coldbench/results"
)

// Chart is one rendered chart, in both formats, written beside the reports
// as NAME.png and NAME.svg and embedded inline in report.html.
type Chart struct {
	Name  string // file stem, such as "latency-cold-warm"
	Title string // what a reader sees as the caption
	PNG   []byte
	SVG   []byte
}

// Section is one block of a report, in both renderings: a trusted HTML
// fragment for report.html and Markdown for report.md.
type Section struct {
	ID       string // anchor, unique in the page
	Title    string
	HTML     template.HTML
	Markdown string
}

// Page is everything one report shows, in order: the lead sections (a
// tuning run's recommendation opens the page), the summary of the run, the
// further sections (the settings table), the charts, the scenario, the
// environment, and the raw numbers as JSON in a collapsible block.
type Page struct {
	Title    string
	Lead     []Section
	Run      *results.Run // the run whose summary table is shown; nil for none
	Sections []Section
	Charts   []Chart
	Scenario string      // the scenario's YAML text
	Env      [][2]string // name, value: coldbench version, target, agents, host
	Raw      any         // marshalled as indented JSON
}
