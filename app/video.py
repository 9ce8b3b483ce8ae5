"""``replay DATASET --episode K --video out.mp4``: a recorded episode as a video file to share.

The replay viewer's own state restorer puts every recorded step back into the simulator
(``app.replay.StateRestorer``: no physics), the offscreen renderer draws it, and imageio's
ffmpeg (``imageio-ffmpeg``, a pinned wheel with its own binary) encodes H.264 at the
episode's real pace (100 steps per second of simulated time, or ``--rate``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sim.errors import UserError


def export_video(dataset: Path, episode: int, out: Path, fps: float, size: int) -> int:
    """Write episode ``episode`` of ``dataset`` to ``out`` (mp4); return the frames written.

    Raises:
        UserError: Not a dataset, no such episode, or ``out`` is not an ``.mp4`` path.

    """
    import imageio.v2 as imageio

    import sim
    from app.replay import StateRestorer
    from recordings.reader import read_one
    from sim.render import DoorRenderer

    if Path(out).suffix.lower() != ".mp4":
        raise UserError(f"--video must name an .mp4 file, got {out}")
    ep = read_one(dataset, episode)
    env = sim.make_door()
    restorer = StateRestorer(env)
    restorer.start_episode(ep.seed, ep.observations[0])
    renderer = DoorRenderer(env.unwrapped.model, size, size)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(out).with_name(f".{Path(out).name}.tmp.mp4")
    try:
        writer: Any = imageio.get_writer(tmp, fps=fps, codec="libx264", macro_block_size=1)
        with writer:
            for obs in ep.observations:
                restorer.apply(obs)
                writer.append_data(renderer.render(restorer.data))
        tmp.replace(out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        renderer.close()
        env.close()
    return len(ep.observations)


__all__ = ["export_video"]
