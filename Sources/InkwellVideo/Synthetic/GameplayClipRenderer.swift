import Foundation

/// Renders frames that look like a Splatoon match seen from far above: a scrolling arena floor
/// (tiles and walls), ink splats in two team colours that accumulate as the match goes on, a few
/// moving characters leaving ink behind them, a HUD (timer bar, team ink meters), and occasional
/// near-black transition frames (a fade-in at the start, sometimes a short blackout, as when a
/// player is splatted). Deterministic from the seed.
///
/// Frames are packed RGB24, `width * height * 3` bytes, rendered in order by `nextFrame()`.
public final class GameplayClipRenderer {
    public let width: Int
    public let height: Int
    public let frameCount: Int
    /// The two team colours of this clip (RGB).
    public let teamColors: [(UInt8, UInt8, UInt8)]

    /// Team colour pairs like the game's (orange / blue, pink / green, yellow / purple, ...).
    public static let palettes: [[(UInt8, UInt8, UInt8)]] = [
        [(245, 130, 31), (42, 91, 215)],
        [(230, 58, 140), (60, 194, 60)],
        [(230, 216, 0), (106, 43, 209)],
        [(20, 200, 190), (236, 80, 40)],
    ]

    /// Arenas (wall layouts) the clips are played on. Like the real game's stages, a few layouts
    /// recur from match to match: a model trained on some clips meets the same arenas in others.
    public static let stages = 4

    private var rng: SeededGenerator
    private let worldW: Int, worldH: Int
    /// Ink per world pixel: 0 none, 1 team A, 2 team B.
    private var ink: [UInt8]
    private var inkCount = [0, 0, 0]
    /// Walls (world pixels that are not floor), drawn raised and never inked.
    private var wall: [Bool]
    private var characters: [Character] = []
    private var frameIndex = 0
    private var blackout: Range<Int>
    private let camPhase: (Double, Double)
    private var frame: [UInt8]

    private struct Character {
        var x: Double, y: Double, vx: Double, vy: Double
        var team: Int
        var cooldown: Int
    }

    /// - Parameters:
    ///   - width, height: frame size (e.g. 320 x 180).
    ///   - frameCount: frames in the clip (drives the timer bar and the transition frames).
    ///   - seed: everything random derives from it.
    public init(width: Int, height: Int, frameCount: Int, seed: UInt64) {
        precondition(width >= 32 && height >= 32, "GameplayClipRenderer needs at least 32x32, got \(width)x\(height)")
        self.width = width
        self.height = height
        self.frameCount = max(1, frameCount)
        rng = SeededGenerator(seed: seed)
        teamColors = Self.palettes[Int(rng.next() % UInt64(Self.palettes.count))]
        worldW = width * 2
        worldH = height * 2
        ink = [UInt8](repeating: 0, count: worldW * worldH)
        wall = [Bool](repeating: false, count: worldW * worldH)
        frame = [UInt8](repeating: 0, count: width * height * 3)
        camPhase = (rng.uniform(0, 6.28), rng.uniform(0, 6.28))
        // A blackout of 4 to 8 frames somewhere in the middle, in about half the clips.
        if rng.unit() < 0.5, frameCount > 40 {
            let at = Int(rng.uniform(0.3, 0.8) * Double(frameCount))
            blackout = at..<(at + 4 + Int(rng.next() % 5))
        } else {
            blackout = 0..<0
        }
        buildWalls(stage: Int(rng.next() % UInt64(Self.stages)))
        let scale = Double(width) / 320
        for i in 0..<8 {  // four a side, as in a match
            let team = i % 2 == 0 ? 1 : 2
            characters.append(Character(
                x: rng.uniform(0.1, 0.9) * Double(worldW), y: rng.uniform(0.1, 0.9) * Double(worldH),
                vx: rng.uniform(-1.5, 1.5) * scale, vy: rng.uniform(-1.5, 1.5) * scale,
                team: team, cooldown: Int(rng.next() % 10)))
        }
        // Some ink already down (the clip starts mid-match).
        for _ in 0..<12 {
            splat(x: rng.uniform(0, Double(worldW)), y: rng.uniform(0, Double(worldH)),
                  radius: rng.uniform(6, 16) * scale, team: rng.unit() < 0.5 ? 1 : 2)
        }
    }

    /// Lays out stage `stage`'s walls: the same for every clip on that stage.
    private func buildWalls(stage: Int) {
        var rng = SeededGenerator(seed: 0x57A6_E000 &+ UInt64(stage))
        let scale = Double(width) / 320
        for _ in 0..<7 {
            let w = Int(rng.uniform(14, 40) * scale), h = Int(rng.uniform(14, 40) * scale)
            let x0 = Int(rng.uniform(0, Double(worldW - w))), y0 = Int(rng.uniform(0, Double(worldH - h)))
            for y in y0..<(y0 + h) { for x in x0..<(x0 + w) { wall[y * worldW + x] = true } }
        }
    }

    /// Paints a blob of ink: a main disc plus a few satellite droplets.
    private func splat(x: Double, y: Double, radius: Double, team: Int) {
        disc(x: x, y: y, r: radius, team: team)
        let drops = 3 + Int(rng.next() % 4)
        for _ in 0..<drops {
            let a = rng.uniform(0, 2 * Double.pi), d = radius * rng.uniform(0.8, 1.6)
            disc(x: x + cos(a) * d, y: y + sin(a) * d, r: radius * rng.uniform(0.2, 0.45), team: team)
        }
    }

    private func disc(x: Double, y: Double, r: Double, team: Int) {
        let x0 = max(0, Int(x - r)), x1 = min(worldW - 1, Int(x + r))
        let y0 = max(0, Int(y - r)), y1 = min(worldH - 1, Int(y + r))
        guard x0 <= x1, y0 <= y1 else { return }
        let r2 = r * r
        for py in y0...y1 {
            let dy = Double(py) - y
            for px in x0...x1 {
                let dx = Double(px) - x
                if dx * dx + dy * dy <= r2 {
                    let i = py * worldW + px
                    if wall[i] { continue }
                    let old = Int(ink[i])
                    if old != team { inkCount[old] -= old == 0 ? 0 : 1; inkCount[team] += 1; ink[i] = UInt8(team) }
                }
            }
        }
    }

    /// Renders the next frame (packed RGB24). Call `frameCount` times.
    public func nextFrame() -> [UInt8] {
        let t = frameIndex
        step()
        draw(t)
        frameIndex += 1
        return frame
    }

    private func step() {
        let scale = Double(width) / 320
        for i in characters.indices {
            var c = characters[i]
            // Wander: small random turns, bounce off the arena edges and walls.
            c.vx += rng.uniform(-0.25, 0.25) * scale
            c.vy += rng.uniform(-0.25, 0.25) * scale
            let speed = (c.vx * c.vx + c.vy * c.vy).squareRoot(), maxSpeed = 2.2 * scale
            if speed > maxSpeed { c.vx *= maxSpeed / speed; c.vy *= maxSpeed / speed }
            var nx = c.x + c.vx, ny = c.y + c.vy
            if nx < 4 || nx > Double(worldW - 5) { c.vx = -c.vx; nx = c.x + c.vx }
            if ny < 4 || ny > Double(worldH - 5) { c.vy = -c.vy; ny = c.y + c.vy }
            let wi = Int(ny) * worldW + Int(nx)
            if wi >= 0, wi < wall.count, wall[wi] { c.vx = -c.vx; c.vy = -c.vy; nx = c.x; ny = c.y }
            c.x = nx; c.y = ny
            // Ink trail under the character, and shots ahead of it.
            disc(x: c.x, y: c.y, r: 3 * scale, team: c.team)
            c.cooldown -= 1
            if c.cooldown <= 0 {
                let d = rng.uniform(10, 30) * scale
                let speed = max(0.1, (c.vx * c.vx + c.vy * c.vy).squareRoot())
                splat(x: c.x + c.vx / speed * d, y: c.y + c.vy / speed * d, radius: rng.uniform(4, 9) * scale, team: c.team)
                c.cooldown = 4 + Int(rng.next() % 10)
            }
            characters[i] = c
        }
    }

    /// Cheap hash noise in [0, 1) for texture.
    @inline(__always) private func noise(_ x: Int, _ y: Int) -> Int {
        var h = UInt32(truncatingIfNeeded: x &* 374_761_393 &+ y &* 668_265_263)
        h = (h ^ (h >> 13)) &* 1_274_126_177
        return Int((h ^ (h >> 16)) & 15)
    }

    private func draw(_ t: Int) {
        let tt = Double(t)
        let camX = Int((Double(worldW - width) * (0.5 + 0.45 * sin(tt * 0.012 + camPhase.0))).rounded())
        let camY = Int((Double(worldH - height) * (0.5 + 0.45 * sin(tt * 0.009 + camPhase.1))).rounded())
        let tile = max(8, width / 20)
        let a = teamColors[0], b = teamColors[1]
        frame.withUnsafeMutableBufferPointer { out in
            for y in 0..<height {
                let wy = y + camY
                for x in 0..<width {
                    let wx = x + camX
                    let wi = wy * worldW + wx
                    let o = (y * width + x) * 3
                    let n = noise(wx, wy)
                    var r: Int, g: Int, bl: Int
                    if wall[wi] {
                        // Raised blocks: lighter top, darker south edge.
                        let edge = wy + 2 < worldH && !wall[wi + 2 * worldW]
                        let v = edge ? 70 : 150
                        r = v + n; g = v + 4 + n; bl = v + 12 + n
                    } else if ink[wi] != 0 {
                        let c = ink[wi] == 1 ? a : b
                        // Glossy ink: a little texture, darker at the blob edges.
                        let border = (wx > 0 && ink[wi - 1] != ink[wi]) || (wy > 0 && ink[wi - worldW] != ink[wi])
                        let shade = border ? -45 : (n - 8)
                        r = Int(c.0) + shade; g = Int(c.1) + shade; bl = Int(c.2) + shade
                    } else {
                        // Floor: grey-blue tiles with darker grout lines.
                        let grout = wx % tile == 0 || wy % tile == 0
                        let checker = ((wx / tile) + (wy / tile)) % 2 == 0 ? 8 : 0
                        let v = grout ? 52 : 92 + checker
                        r = v + n / 2; g = v + 6 + n / 2; bl = v + 18 + n / 2
                    }
                    out[o] = UInt8(clamping: r); out[o + 1] = UInt8(clamping: g); out[o + 2] = UInt8(clamping: bl)
                }
            }
        }
        let scale = Double(width) / 320
        for c in characters {
            let sx = c.x - Double(camX), sy = c.y - Double(camY)
            let col = teamColors[c.team - 1]
            fillCircle(sx, sy, 6.5 * scale, (20, 20, 24))
            fillCircle(sx, sy, 5 * scale, (UInt8(clamping: Int(col.0) + 25), UInt8(clamping: Int(col.1) + 25), UInt8(clamping: Int(col.2) + 25)))
            let speed = max(0.1, (c.vx * c.vx + c.vy * c.vy).squareRoot())
            fillCircle(sx + c.vx / speed * 3 * scale, sy + c.vy / speed * 3 * scale, 1.8 * scale, (250, 250, 250))
        }
        drawHUD(t)
        // Transitions: fade in from near-black over the first 8 frames; a blackout mid-clip.
        var dim = 1.0
        if t < 8 { dim = Double(t) / 8 }
        if blackout.contains(t) { dim = 0.03 }
        if dim < 1 {
            frame.withUnsafeMutableBufferPointer { out in
                for i in out.indices { out[i] = UInt8(Double(out[i]) * dim + 4 * (1 - dim)) }
            }
        }
    }

    private func drawHUD(_ t: Int) {
        let scale = Double(width) / 320
        let barH = max(3, Int(4 * scale))
        // Timer bar: top centre, shrinking as the clip goes on.
        let full = width / 3
        let remaining = Int(Double(full) * (1 - Double(t) / Double(frameCount)))
        let x0 = (width - full) / 2, y0 = Int(6 * scale)
        fillRect(x0 - 1, y0 - 1, full + 2, barH + 2, (15, 15, 15))
        fillRect(x0, y0, remaining, barH, (235, 235, 235))
        // Team ink meters: left team A, right team B, length by inked area.
        let total = Double(max(1, inkCount[1] + inkCount[2]))
        let meterW = width / 4
        let la = Int(Double(meterW) * Double(inkCount[1]) / total)
        let lb = Int(Double(meterW) * Double(inkCount[2]) / total)
        let my = height - Int(10 * scale)
        fillRect(Int(6 * scale) - 1, my - 1, meterW + 2, barH + 2, (15, 15, 15))
        fillRect(Int(6 * scale), my, la, barH, teamColors[0])
        fillRect(width - Int(6 * scale) - meterW - 1, my - 1, meterW + 2, barH + 2, (15, 15, 15))
        fillRect(width - Int(6 * scale) - lb, my, lb, barH, teamColors[1])
        // Player icons beside the timer: four per team.
        let icon = max(3, Int(5 * scale))
        for k in 0..<4 {
            fillRect(x0 - (k + 1) * (icon + 2) - 4, y0 - 1, icon, icon, teamColors[0])
            fillRect(x0 + full + 4 + k * (icon + 2), y0 - 1, icon, icon, teamColors[1])
        }
    }

    private func fillRect(_ x: Int, _ y: Int, _ w: Int, _ h: Int, _ c: (UInt8, UInt8, UInt8)) {
        let xa = max(0, x), xb = min(width, x + w), ya = max(0, y), yb = min(height, y + h)
        guard xa < xb, ya < yb else { return }
        for yy in ya..<yb {
            for xx in xa..<xb {
                let o = (yy * width + xx) * 3
                frame[o] = c.0; frame[o + 1] = c.1; frame[o + 2] = c.2
            }
        }
    }

    private func fillCircle(_ cx: Double, _ cy: Double, _ r: Double, _ c: (UInt8, UInt8, UInt8)) {
        let xa = max(0, Int(cx - r)), xb = min(width - 1, Int(cx + r))
        let ya = max(0, Int(cy - r)), yb = min(height - 1, Int(cy + r))
        guard xa <= xb, ya <= yb else { return }
        for yy in ya...yb {
            for xx in xa...xb {
                let dx = Double(xx) - cx, dy = Double(yy) - cy
                if dx * dx + dy * dy <= r * r {
                    let o = (yy * width + xx) * 3
                    frame[o] = c.0; frame[o + 1] = c.1; frame[o + 2] = c.2
                }
            }
        }
    }

    /// The soundtrack for frame `t`: `samples` mono samples of a quiet bass line that changes
    /// note every 15 frames (deterministic, so clips with audio are reproducible).
    func audio(frame t: Int, samples: Int, sampleRate: Int) -> [Float] {
        let notes: [Float] = [110, 146.8, 164.8, 130.8]
        let note = notes[(t / 15) % notes.count]
        return (0..<samples).map { k in
            let time = Float(t * samples + k) / Float(sampleRate)
            return 0.15 * sin(2 * .pi * note * time) + 0.05 * sin(2 * .pi * note * 2.01 * time)
        }
    }
}
