# Rewrites the rows of docs/quality.md's first-part tables (synthetic night, real sets, do no harm,
# videos) for every stage in a new eval report.json: python3 scripts/quality-tables.py docs/quality/report.json docs/quality.md
# (after bash scripts/quality.sh). Rows of stages not in the report are left as they were.
import json, re, sys
rep = json.load(open(sys.argv[1])); doc_path = sys.argv[2]
s = open(doc_path).read()
D = {ds['name']: ds for ds in rep['datasets']}
stages = [st['name'] for st in rep['stages']]
def row_re(name): return re.compile(r'^\| ' + re.escape(name) + r' \|.*$', re.M)
def replace_in(section_start, section_end, name, newrow):
    global s
    i = s.index(section_start); j = s.index(section_end, i)
    seg = s[i:j]
    seg2, n = row_re(name).subn(newrow, seg, count=1)
    if n: s = s[:i] + seg2 + s[j:]
    return n
changed = 0
# synthetic
for st in stages:
    cells = []
    for fw in ('images-night-fw100', 'images-night-fw300', 'images-night-fw1000'):
        v = D[fw]['stages'][st]; cells.append(f"{v['psnr']:.2f} / {v['ssim']:.3f}")
    changed += replace_in('## Synthetic night (face-api-js', '## Real low-light photos', st, f"| {st} | " + ' | '.join(cells) + ' |')
# real sets
for ds in ('dicm', 'lime', 'night-scenes'):
    head = f"### {ds} "
    nxt = '### ' if ds != 'night-scenes' else '![DICM]'
    i = s.index(head); end = s.index(nxt, i + len(head))
    for st in stages:
        v = D[ds]['stages'][st]
        row = f"| {st} | {v['brightness']:.3f} | {100*v['clipped']:.2f} | {v['loe']:.1f} | {v['colorfulness']:.1f} | {v['cast']:.2f} |"
        seg = s[i:end]; seg2, n = row_re(st).subn(row, seg, count=1)
        if n: s = s[:i] + seg2 + s[end:]; changed += n; end = s.index(nxt, i + len(head))
# do no harm
for st in stages:
    v = D['images-noharm']['stages'][st]
    changed += replace_in('## Do no harm', '## Videos', st, f"| {st} | {v['psnr']:.2f} | {v['ssim']:.3f} | {v['brightness']:.3f} |")
# videos
clips = ['ir_cctv_night_65s', 'person_walking_night_1080p', 'campus_pedestrians_480x360']
for st in stages:
    cells = []
    for c in clips:
        v = D[c]['stages'][st]; cells.append(f"{v['flicker']:.2f} / {v['brightness']:.3f} / {v['colorfulness']:.1f}")
    changed += replace_in('## Videos (2 s each)', '## Against the aims', st, f"| {st} | " + ' | '.join(cells) + ' |')
open(doc_path, 'w').write(s)
print('rows changed', changed)
