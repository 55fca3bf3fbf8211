// The drawing pad: white ink on black, like MNIST, with strokes kept so that Undo can replay them.
// Mouse, touch and pen all arrive as pointer events.

// Pen width / canvas width: 1/12 is thick, so a digit the size of the pad looks like MNIST after
// shrinking to 28x28; a small digit needs a thinner pen (the server also evens out stroke widths).
export const PEN_WIDTHS = { thin: 1 / 24, medium: 1 / 16, thick: 1 / 12 };

export class DrawingPad {
  /** onChange() runs whenever the picture changes (while drawing too); onStrokeEnd() when a stroke is finished. */
  constructor(canvas, { onChange, onStrokeEnd }) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    this.strokes = []; // each: {points: [[x, y], ...] in canvas pixels, width: fraction of the pad}
    this.current = null;
    this.penWidth = PEN_WIDTHS.thick;
    this.onChange = onChange;
    this.onStrokeEnd = onStrokeEnd;
    canvas.addEventListener("pointerdown", (event) => this.start(event));
    canvas.addEventListener("pointermove", (event) => this.move(event));
    for (const type of ["pointerup", "pointercancel", "lostpointercapture"]) {
      canvas.addEventListener(type, () => this.end());
    }
    this.redraw();
  }

  isEmpty() {
    return this.strokes.length === 0;
  }

  toDataURL() {
    return this.canvas.toDataURL("image/png");
  }

  undo() {
    if (this.strokes.length === 0) return;
    this.strokes.pop();
    this.redraw();
    this.onChange();
    this.onStrokeEnd();
  }

  clear({ silent = false } = {}) {
    this.strokes = [];
    this.current = null;
    this.redraw();
    if (!silent) {
      this.onChange();
      this.onStrokeEnd();
    }
  }

  point(event) {
    const rect = this.canvas.getBoundingClientRect();
    return [
      ((event.clientX - rect.left) * this.canvas.width) / rect.width,
      ((event.clientY - rect.top) * this.canvas.height) / rect.height,
    ];
  }

  start(event) {
    if (event.button !== 0 && event.pointerType === "mouse") return;
    event.preventDefault();
    this.canvas.setPointerCapture(event.pointerId);
    this.current = { points: [this.point(event)], width: this.penWidth };
    this.strokes.push(this.current);
    this.redraw();
    this.onChange();
  }

  move(event) {
    if (!this.current) return;
    event.preventDefault();
    const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [event];
    for (const e of events.length ? events : [event]) this.current.points.push(this.point(e));
    this.redraw();
    this.onChange();
  }

  end() {
    if (!this.current) return;
    this.current = null;
    this.onStrokeEnd();
  }

  redraw() {
    const { ctx, canvas } = this;
    ctx.fillStyle = "#000";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.strokeStyle = "#fff";
    ctx.fillStyle = "#fff";
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    for (const { points: stroke, width } of this.strokes) {
      ctx.lineWidth = canvas.width * width; // each stroke keeps the pen it was drawn with
      if (stroke.length === 1) {
        const [x, y] = stroke[0];
        ctx.beginPath();
        ctx.arc(x, y, ctx.lineWidth / 2, 0, 2 * Math.PI);
        ctx.fill();
        continue;
      }
      // A smooth curve through the midpoints of successive points, the points as control points.
      ctx.beginPath();
      ctx.moveTo(...stroke[0]);
      for (let i = 1; i < stroke.length - 1; i++) {
        const [x, y] = stroke[i];
        const [nx, ny] = stroke[i + 1];
        ctx.quadraticCurveTo(x, y, (x + nx) / 2, (y + ny) / 2);
      }
      ctx.lineTo(...stroke[stroke.length - 1]);
      ctx.stroke();
    }
  }
}
