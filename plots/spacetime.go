package plots

import (
	"bytes"
	"fmt"
	"image/color"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	xfont "golang.org/x/image/font"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/kafkasim/kafkasim/outfile"
	"github.com/kafkasim/kafkasim/scenarios"
)

// The space-time diagram's layout, in points. Every coordinate is rounded
// to a whole point before it is drawn, so that the SVG stays readable in a
// golden diff.
const (
	stLeft     = 64  // the time axis
	stLaneW    = 150 // one lane
	stRight    = 16
	stTop      = 70 // title and lane names
	stHeight   = 720
	stGapH     = 22 // a quiet stretch, shortened
	stMinSeg   = 60
	stLegendH  = 150
	stFontSize = 8
)

var (
	stGrid     = color.RGBA{R: 215, G: 215, B: 215, A: 255}
	stText     = color.RGBA{R: 30, G: 30, B: 30, A: 255}
	stSub      = color.RGBA{R: 120, G: 120, B: 120, A: 255}
	stISR      = color.RGBA{R: 120, G: 190, B: 120, A: 255}
	stLeader   = color.RGBA{R: 40, G: 70, B: 150, A: 255}
	stDown     = color.RGBA{R: 200, G: 200, B: 200, A: 255}
	stCut      = color.RGBA{R: 255, G: 225, B: 190, A: 255}
	stLEO      = color.RGBA{R: 60, G: 60, B: 60, A: 255}
	stHW       = color.RGBA{R: 0, G: 150, B: 70, A: 255}
	stOK       = color.RGBA{R: 110, G: 160, B: 110, A: 255}
	stErr      = color.RGBA{R: 210, G: 0, B: 0, A: 255}
	stFetch    = color.RGBA{R: 130, G: 150, B: 190, A: 255}
	stAlter    = color.RGBA{R: 140, G: 60, B: 170, A: 255}
	stElection = color.RGBA{R: 230, G: 120, B: 0, A: 255}
	stTxn      = color.RGBA{R: 0, G: 120, B: 160, A: 255}
	stFault    = color.RGBA{R: 150, G: 0, B: 0, A: 255}
)

// batchColours give each produce batch a colour that its retries keep.
var batchColours = []color.RGBA{
	{R: 31, G: 119, B: 180, A: 255}, {R: 255, G: 127, B: 14, A: 255}, {R: 44, G: 160, B: 44, A: 255},
	{R: 148, G: 103, B: 189, A: 255}, {R: 140, G: 86, B: 75, A: 255}, {R: 227, G: 119, B: 194, A: 255},
	{R: 23, G: 190, B: 207, A: 255}, {R: 188, G: 189, B: 34, A: 255},
}

var badgeColours = map[scenarios.BadgeKind]color.RGBA{
	scenarios.BadgeLost:       {R: 200, G: 0, B: 0, A: 255},
	scenarios.BadgeDuplicated: {R: 200, G: 90, B: 0, A: 255},
	scenarios.BadgeReordered:  {R: 150, G: 0, B: 150, A: 255},
	scenarios.BadgeAmbiguous:  {R: 90, G: 90, B: 90, A: 255},
}

// WriteSpaceTime writes the diagram as dir/spacetime.svg and
// dir/spacetime.png and returns the paths.
func WriteSpaceTime(dir string, st *scenarios.SpaceTime) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var paths []string
	for _, f := range []Format{SVG, PNG} {
		data, err := SpaceTimeImage(st, f)
		if err != nil {
			return paths, err
		}
		path := filepath.Join(dir, "spacetime."+f.Ext())
		if err := outfile.Write(path, func(w io.Writer) error { _, err := w.Write(data); return err }); err != nil {
			return paths, err
		}
		paths = append(paths, path)
	}
	return paths, nil
}

// SpaceTimeImage draws the diagram in one format: a pure function of its
// data, for the CLI and the web view alike.
func SpaceTimeImage(st *scenarios.SpaceTime, f Format) ([]byte, error) {
	w := vg.Length(stLeft + stLaneW*len(st.Lanes) + stRight)
	h := vg.Length(stTop + stHeight + stGapH*len(st.Gaps) + stLegendH + 14*len(st.Notes))
	cv, err := draw.NewFormattedCanvas(w, h, f.Ext())
	if err != nil {
		return nil, err
	}
	d := &stDrawer{c: cv, st: st, w: float64(w), h: float64(h), errLabel: map[int]float64{}, reqLabel: map[int]float64{}}
	d.face = font.DefaultCache.Lookup(font.Font{Typeface: "Liberation", Variant: "Sans"}, stFontSize)
	d.bold = font.DefaultCache.Lookup(font.Font{Typeface: "Liberation", Variant: "Sans", Weight: xfont.WeightBold}, 10)
	d.draw()
	var buf bytes.Buffer
	if _, err := cv.WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

type stDrawer struct {
	c    vg.Canvas
	st   *scenarios.SpaceTime
	w, h float64
	face font.Face
	bold font.Face
	segs [][2]float64 // the stretches between gaps, in ms
	segH []float64    // their heights
	minO int64        // offsets drawn in the replica lanes
	maxO int64

	errLabel map[int]float64 // per lane, the last error label's height
	reqLabel map[int]float64 // per lane, the last request label's height
}

// Coordinates: x from the left, y from the top, rounded; the canvas's y
// grows upward.
func (d *stDrawer) pt(x, y float64) vg.Point {
	return vg.Point{X: vg.Length(math.Round(x)), Y: vg.Length(math.Round(d.h - y))}
}

func (d *stDrawer) line(col color.Color, width float64, dash []vg.Length, xys ...float64) {
	d.c.SetColor(col)
	d.c.SetLineWidth(vg.Length(width))
	d.c.SetLineDash(dash, 0)
	var p vg.Path
	for i := 0; i+1 < len(xys); i += 2 {
		if i == 0 {
			p.Move(d.pt(xys[i], xys[i+1]))
		} else {
			p.Line(d.pt(xys[i], xys[i+1]))
		}
	}
	d.c.Stroke(p)
	d.c.SetLineDash(nil, 0)
}

func (d *stDrawer) rect(col color.Color, x0, y0, x1, y1 float64) {
	d.c.SetColor(col)
	var p vg.Path
	p.Move(d.pt(x0, y0))
	p.Line(d.pt(x1, y0))
	p.Line(d.pt(x1, y1))
	p.Line(d.pt(x0, y1))
	p.Close()
	d.c.Fill(p)
}

// text draws s with its left end at x (align 0), centred (0.5) or its
// right end at x (1), baseline at y.
func (d *stDrawer) text(col color.Color, face font.Face, x, y float64, align float64, s string) {
	d.c.SetColor(col)
	x -= align * float64(face.Width(s))
	d.c.FillString(face, d.pt(x, y), s)
}

func (d *stDrawer) laneX(i int) float64 { return stLeft + stLaneW*float64(i) + stLaneW/2 }

// y maps a time to its height: the stretches between gaps share the
// height, in proportion to their length but each at least stMinSeg tall
// (a short burst of messages needs room), and each gap is stGapH.
func (d *stDrawer) y(ms float64) float64 {
	y := float64(stTop)
	for i, s := range d.segs {
		if ms <= s[1] || i == len(d.segs)-1 {
			return y + (ms-s[0])/math.Max(s[1]-s[0], 1e-9)*d.segH[i]
		}
		y += d.segH[i]
		if g := d.st.Gaps[i]; ms < g.ToMs {
			return y + (ms-g.FromMs)/(g.ToMs-g.FromMs)*stGapH
		}
		y += stGapH
	}
	return y
}

// layout splits the window into the stretches between gaps and gives each
// its height: half in proportion to its length, half in proportion to
// what happens in it (messages sent, marks, badges), each at least
// stMinSeg, so that a burst of messages gets room and a long wait with
// little in it does not take the page.
func (d *stDrawer) layout() {
	st := d.st
	prev := st.FromMs
	for _, g := range st.Gaps {
		d.segs = append(d.segs, [2]float64{prev, g.FromMs})
		prev = g.ToMs
	}
	d.segs = append(d.segs, [2]float64{prev, st.ToMs})
	events := make([]float64, len(d.segs))
	count := func(ms float64) {
		for i, s := range d.segs {
			if ms >= s[0] && ms <= s[1] {
				events[i]++
				return
			}
		}
	}
	for _, a := range st.Arrows {
		count(a.SentMs)
	}
	for _, m := range st.Marks {
		count(m.AtMs)
	}
	for _, b := range st.Badges {
		count(b.AtMs)
	}
	total, totalEvents := 0.0, 0.0
	for i, s := range d.segs {
		total += s[1] - s[0]
		totalEvents += events[i]
	}
	minH := math.Min(stMinSeg, stHeight/float64(len(d.segs)))
	rest := stHeight - minH*float64(len(d.segs))
	for i, s := range d.segs {
		w := 0.5 * (s[1] - s[0]) / math.Max(total, 1e-9)
		if totalEvents > 0 {
			w += 0.5 * events[i] / totalEvents
		} else {
			w *= 2
		}
		d.segH = append(d.segH, minH+w*rest)
	}
}

func (d *stDrawer) draw() {
	st := d.st
	d.layout()
	d.minO, d.maxO = math.MaxInt64, math.MinInt64
	for _, s := range st.Steps {
		for _, p := range s.Points {
			d.minO, d.maxO = min(d.minO, p.Offset), max(d.maxO, p.Offset)
		}
	}
	if d.minO > d.maxO {
		d.minO, d.maxO = 0, 1
	}
	if d.minO == d.maxO {
		d.maxO++
	}
	d.rect(color.White, 0, 0, d.w, d.h)
	d.text(stText, d.bold, 8, 16, 0, fmt.Sprintf("%s, seed %d: %s from %s to %s", st.Scenario, st.Seed, st.Partition, seconds(st.FromMs), seconds(st.ToMs)))
	d.text(stText, d.face, 8, 30, 0, "window: "+st.Why+". Time flows down.")
	d.lanes()
	d.axis()
	d.bands()
	d.steps()
	d.gaps()
	d.inFlight()
	for i := range st.Arrows {
		d.arrow(i)
	}
	d.marks()
	d.badges()
	d.legend()
}

func (d *stDrawer) bottom() float64 { return d.y(d.st.ToMs) }

func (d *stDrawer) lanes() {
	for i, l := range d.st.Lanes {
		x := d.laneX(i)
		d.line(stGrid, 1, nil, x, stTop-4, x, d.bottom())
		name, sub := l.Name, string(l.Kind)
		if l.Kind == scenarios.LaneReplica {
			sub = fmt.Sprintf("offsets %d to %d", d.minO, d.maxO)
		}
		d.text(stText, d.face, x, stTop-22, 0.5, name)
		d.text(stSub, d.face, x, stTop-10, 0.5, sub)
	}
}

// axis labels the time at the window's ends and at even steps in between,
// skipping the gaps.
func (d *stDrawer) axis() {
	d.line(stText, 1, nil, stLeft-8, stTop, stLeft-8, d.bottom())
	lastY := -100.0
	for i, s := range d.segs {
		pts := d.segH[i]
		if !(pts >= 1) {
			continue // an empty or degenerate stretch: nothing to label
		}
		n := math.Min(math.Max(1, math.Floor(pts/60)), 50)
		step := niceStep((s[1] - s[0]) / n)
		for t := math.Ceil(s[0]/step) * step; t <= s[1]; t += step {
			y := d.y(t)
			if y-lastY < 14 {
				continue
			}
			lastY = y
			d.line(stText, 1, nil, stLeft-12, y, stLeft-8, y)
			d.line(stGrid, 0.5, []vg.Length{1, 3}, stLeft-8, y, d.w-stRight, y)
			d.text(stText, d.face, stLeft-14, y+3, 1, seconds(t))
		}
	}
}

func niceStep(v float64) float64 {
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

// seconds formats a virtual time in ms for people: "1.5 s", "1.003 s".
func seconds(ms float64) string {
	s := fmt.Sprintf("%.3f", ms/1000)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s + " s"
}

func (d *stDrawer) bands() {
	for _, b := range d.st.Bands {
		x := d.laneX(b.Lane) - stLaneW/2
		y0, y1 := d.y(b.FromMs), d.y(b.ToMs)
		switch b.Kind {
		case scenarios.BandDown:
			d.rect(stDown, x+4, y0, x+stLaneW-4, y1)
			d.text(stText, d.face, x+stLaneW/2, y0+12, 0.5, "down")
		case scenarios.BandCut:
			d.rect(stCut, x+stLaneW-14, y0, x+stLaneW-6, y1)
		case scenarios.BandISR:
			d.rect(stISR, x+6, y0, x+12, y1)
		case scenarios.BandLeader:
			d.rect(stLeader, x+14, y0, x+18, y1)
		}
	}
}

// offsetX places an offset inside a replica lane.
func (d *stDrawer) offsetX(lane int, o int64) float64 {
	x := d.laneX(lane) - stLaneW/2 + 24
	return x + float64(o-d.minO)/float64(d.maxO-d.minO)*(stLaneW-44)
}

func (d *stDrawer) steps() {
	for _, s := range d.st.Steps {
		col, width, dash := stLEO, 1.2, []vg.Length(nil)
		if s.Line == "high-watermark" {
			col, width, dash = stHW, 1.5, []vg.Length{3, 2}
		}
		var xys []float64
		for i, p := range s.Points {
			x := d.offsetX(s.Lane, p.Offset)
			end := d.st.ToMs
			if i+1 < len(s.Points) {
				end = s.Points[i+1].AtMs
			}
			xys = append(xys, x, d.y(p.AtMs))
			xys = append(xys, x, d.y(end))
		}
		d.line(col, width, dash, xys...)
		if n := len(s.Points); n > 0 && s.Line == "log-end-offset" {
			last := s.Points[n-1]
			d.text(col, d.face, d.offsetX(s.Lane, last.Offset)+2, d.bottom()-3, 0, fmt.Sprint(last.Offset))
		}
	}
}

func (d *stDrawer) gaps() {
	for _, g := range d.st.Gaps {
		y0 := d.y(g.FromMs)
		d.rect(color.RGBA{R: 245, G: 245, B: 245, A: 255}, stLeft-8, y0, d.w-stRight, y0+stGapH)
		var zig []float64
		for x := float64(stLeft - 8); x <= d.w-stRight; x += 8 {
			dy := 4.0
			if int(x)%16 == 0 {
				dy = 8
			}
			zig = append(zig, x, y0+dy+3)
		}
		d.line(stGrid, 1, nil, zig...)
		d.text(stText, d.face, stLeft+4, y0+stGapH-5, 0, fmt.Sprintf("… %s not drawn: nothing happens on %s …", seconds(g.ToMs-g.FromMs), d.st.Partition))
	}
}

func (d *stDrawer) arrow(i int) {
	a := &d.st.Arrows[i]
	x0, y0 := d.laneX(a.From), d.y(a.SentMs)
	x1, y1 := d.laneX(a.To), d.y(a.EndMs)
	col, width := color.Color(stFetch), 0.8
	switch a.Kind {
	case scenarios.ArrowProduce:
		col, width = batchColours[a.Batch%int64(len(batchColours))], 1.2
	case scenarios.ArrowProduceResponse:
		col = stOK
		if a.Error {
			col = stErr
		}
	case scenarios.ArrowAlter, scenarios.ArrowAlterResponse:
		col, width = stAlter, 1
	case scenarios.ArrowElection:
		col, width = stElection, 2
	}
	if a.End != scenarios.EndReceived {
		// It never arrived: draw it to where it stopped, half way.
		x1 = (x0 + x1) / 2
	}
	late := a.EndMs > d.st.ToMs
	if late {
		// It arrives after the window: drawn to the window's end.
		bottom := d.bottom()
		x1 = x0 + (x1-x0)*(bottom-y0)/math.Max(y1-y0, 1)
		y1 = bottom
	}
	if a.HeldMs > 0 && a.End == scenarios.EndReceived {
		// Held by a cut: solid to the hold, dotted while TCP retransmits.
		yh := d.y(a.HeldMs)
		xh := x0 + (x1-x0)*0.35
		d.line(col, width, nil, x0, y0, xh, yh)
		d.line(col, width, []vg.Length{2, 2}, xh, yh, x1, y1)
		d.ring(col, xh, yh)
	} else {
		d.line(col, width, nil, x0, y0, x1, y1)
	}
	switch {
	case late:
	case a.End == scenarios.EndReceived:
		d.head(col, x0, y0, x1, y1)
	case a.End == scenarios.EndDropped:
		d.cross(stErr, x1, y1)
	case a.End == scenarios.EndCut:
		d.line(stErr, 2, nil, x1-5, y1, x1+5, y1)
		if a.HeldMs > 0 {
			d.ring(col, x1, d.y(a.HeldMs))
		}
	}
	dir := 1.0
	if x1 < x0 {
		dir = -1
	}
	switch {
	case a.Kind == scenarios.ArrowProduce && a.Label != "":
		ly := y0 - 2
		if last, ok := d.reqLabel[a.From]; ok && ly < last+9 {
			ly = last + 9 // requests sent together stack their labels
		}
		if ly <= y0+8 { // too far from its arrow: the colour says which batch
			d.reqLabel[a.From] = ly
			d.text(col, d.face, x0+dir*4, ly, (1-dir)/2, a.Label)
		}
	case a.Kind == scenarios.ArrowProduceResponse && a.Error:
		ly := y1 + 9
		if last, ok := d.errLabel[a.To]; ok && ly < last+10 {
			ly = last + 10 // answers that arrive together stack
		}
		d.errLabel[a.To] = ly
		d.text(stErr, d.face, x1-dir*4, ly, (1+dir)/2, a.Label)
	case a.Kind == scenarios.ArrowElection:
		d.text(stElection, d.face, (x0+x1)/2, (y0+y1)/2-4, 0.5, a.Label) // above its middle: the new leader's lane has its own mark
	}
}

// inFlight draws each produce request's time in flight on its connection
// lane, from its send to its answer (or the window's end), as a thin bar
// in its batch's colour; requests in flight together stand side by side,
// so max.in.flight.requests.per.connection shows as the bars' width.
func (d *stDrawer) inFlight() {
	st := d.st
	busy := map[int][]float64{} // per lane, when each slot frees
	for _, a := range st.Arrows {
		if a.Kind != scenarios.ArrowProduce {
			continue
		}
		end := a.DoneMs
		if end == 0 {
			end = st.ToMs // still waited for when the window ends
		}
		end = math.Min(end, st.ToMs)
		slots := busy[a.From]
		slot := len(slots)
		for k, free := range slots {
			if free <= a.SentMs {
				slot = k
				break
			}
		}
		if slot == len(slots) {
			slots = append(slots, 0)
		}
		slots[slot] = end
		busy[a.From] = slots
		x := d.laneX(a.From) - 8 - 4*float64(slot)
		d.line(batchColours[a.Batch%int64(len(batchColours))], 2.5, nil, x, d.y(a.SentMs), x, math.Max(d.y(end), d.y(a.SentMs)+1))
	}
}

func (d *stDrawer) head(col color.Color, x0, y0, x1, y1 float64) {
	l := math.Hypot(x1-x0, y1-y0)
	if l < 1 {
		return
	}
	ux, uy := (x1-x0)/l, (y1-y0)/l
	d.c.SetColor(col)
	var p vg.Path
	p.Move(d.pt(x1, y1))
	p.Line(d.pt(x1-6*ux+3*uy, y1-6*uy-3*ux))
	p.Line(d.pt(x1-6*ux-3*uy, y1-6*uy+3*ux))
	p.Close()
	d.c.Fill(p)
}

func (d *stDrawer) cross(col color.Color, x, y float64) {
	d.line(col, 2, nil, x-4, y-4, x+4, y+4)
	d.line(col, 2, nil, x-4, y+4, x+4, y-4)
}

func (d *stDrawer) ring(col color.Color, x, y float64) {
	d.c.SetColor(col)
	d.c.SetLineWidth(1)
	var p vg.Path
	p.Move(d.pt(x+3, y))
	p.Arc(d.pt(x, y), 3, 0, 2*math.Pi)
	p.Close()
	d.c.Stroke(p)
}

func (d *stDrawer) marks() {
	lastLabel := map[int]float64{} // per lane, where the last label went: labels at one time stack
	for _, m := range d.st.Marks {
		y := d.y(m.AtMs)
		ty := y - 3
		if last, ok := lastLabel[m.Lane]; ok && ty < last+10 {
			ty = last + 10
		}
		lastLabel[m.Lane] = ty
		col := stText
		switch m.Kind {
		case scenarios.MarkFault:
			col = stFault
		case scenarios.MarkError:
			col = stErr
		case scenarios.MarkTxn:
			col = stTxn
		case scenarios.MarkChange:
			col = stElection
		}
		if m.Lane < 0 || m.Kind == scenarios.MarkFault {
			d.line(stFault, 0.8, []vg.Length{4, 3}, stLeft-8, y, d.w-stRight, y)
		}
		x := float64(stLeft)
		if m.Lane >= 0 {
			x = d.laneX(m.Lane)
			d.rect(col, x-3, y-3, x+3, y+3)
		}
		d.text(col, d.face, x+5, ty, 0, m.Label)
	}
}

func (d *stDrawer) badges() {
	lastLabel := map[int]float64{} // per lane: badges at one time stack
	for _, b := range d.st.Badges {
		x := d.laneX(b.Lane) + stLaneW/2 - 8
		y0, y1 := d.y(b.AtMs), d.y(b.ToMs)
		ly := y0
		if last, ok := lastLabel[b.Lane]; ok && ly < last+12 {
			ly = last + 12
		}
		lastLabel[b.Lane] = ly
		col := badgeColours[b.Kind]
		d.line(col, 2, nil, x, y0, x, math.Max(y1, y0+2))
		label := fmt.Sprintf("%s ×%d", strings.ToUpper(string(b.Kind)), b.Count)
		if b.LastBatch != b.Batch {
			label += fmt.Sprintf(" b%d-%d", b.Batch, b.LastBatch)
		} else {
			label += fmt.Sprintf(" b%d", b.Batch)
		}
		tw := float64(d.face.Width(label))
		d.rect(col, x-tw-6, ly, x-2, ly+11)
		d.text(color.White, d.face, x-tw-4, ly+8, 0, label)
	}
}

func (d *stDrawer) legend() {
	y := d.bottom() + 24
	x := float64(stLeft)
	type item struct {
		draw func(x, y float64)
		text string
	}
	items := []item{
		{func(x, y float64) {
			d.line(batchColours[0], 1.2, nil, x, y, x+18, y)
			d.head(batchColours[0], x, y, x+18, y)
		}, "produce request: colour and label per batch (bN, seq, try); a retry keeps both"},
		{func(x, y float64) { d.line(stOK, 0.8, nil, x, y, x+18, y); d.head(stOK, x, y, x+18, y) }, "produce response (red: an error, named at its end)"},
		{func(x, y float64) {
			d.line(batchColours[1], 2.5, nil, x+10, y-5, x+10, y+5)
			d.line(batchColours[2], 2.5, nil, x+14, y-3, x+14, y+5)
		}, "requests in flight on a connection: one bar each, send to answer"},
		{func(x, y float64) { d.line(stFetch, 0.8, nil, x, y, x+18, y); d.head(stFetch, x, y, x+18, y) }, "follower fetch and its answer (only those that carried this partition's records)"},
		{func(x, y float64) { d.line(stAlter, 1, nil, x, y, x+18, y); d.head(stAlter, x, y, x+18, y) }, "AlterPartition (ISR change) and its answer"},
		{func(x, y float64) { d.line(stElection, 2, nil, x, y, x+18, y); d.head(stElection, x, y, x+18, y) }, "election: controller to the new leader"},
		{func(x, y float64) { d.ring(stText, x+9, y) }, "held by a cut; TCP retransmits it (dotted until it arrives)"},
		{func(x, y float64) { d.cross(stErr, x+9, y) }, "lost (connection closed, peer down, refused); a red bar: still cut when the window ends"},
		{func(x, y float64) { d.rect(stISR, x+6, y-5, x+12, y+5); d.rect(stLeader, x+14, y-5, x+18, y+5) }, "in the ISR (green), the leader (blue); grey: down; orange: cut off"},
		{func(x, y float64) {
			d.line(stLEO, 1.2, nil, x, y, x+18, y)
			d.line(stHW, 1.5, []vg.Length{3, 2}, x, y+4, x+18, y+4)
		}, "log end offset (solid) and the leader's high watermark (dashed), offset grows to the right"},
		{func(x, y float64) { d.rect(badgeColours[scenarios.BadgeLost], x, y-5, x+18, y+5) }, "badges: LOST, DUPLICATED, REORDERED, AMBIGUOUS records, per batch, at the append"},
	}
	col := 0
	for i, it := range items {
		cx := x + float64(col)*(d.w-stLeft)/2
		cy := y + float64(i/2)*14
		it.draw(cx, cy-3)
		d.text(stText, d.face, cx+24, cy, 0, it.text)
		col = (col + 1) % 2
	}
	y += float64((len(items)+1)/2)*14 + 6
	for _, n := range d.st.Notes {
		d.text(stText, d.face, x, y, 0, "note: "+n)
		y += 14
	}
}
