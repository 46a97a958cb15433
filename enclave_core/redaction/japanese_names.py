"""Common Japanese surnames (kanji and Hepburn romaji), written for the name recognizers.

Not exhaustive and not meant to be: a surname from this list before an honorific or a given name
raises the confidence of a detection; GiNZA's NER and the honorific/label context find the rest.
"""

from __future__ import annotations

__all__ = ["ROMAJI_SURNAMES", "SURNAMES", "TITLE_WORDS"]

SURNAMES: frozenset[str] = frozenset(
    """
    佐藤 鈴木 高橋 田中 伊藤 渡辺 渡部 山本 中村 小林 加藤 吉田 山田 佐々木 山口 松本 井上 木村
    林 斎藤 斉藤 清水 山崎 森 池田 橋本 阿部 石川 山下 中島 石井 小川 前田 岡田 長谷川 藤田
    後藤 近藤 村上 遠藤 青木 坂本 福田 太田 西村 藤井 金子 岡本 藤原 中野 三浦 原田 中川 松田
    竹内 小野 田村 中山 和田 石田 森田 上田 原 内田 柴田 酒井 宮崎 横山 高木 安藤 宮本 大野
    小島 谷口 今井 工藤 高田 増田 丸山 杉山 村田 大塚 新井 小山 平野 藤本 河野 上野 野口 武田
    松井 千葉 岩崎 菅原 木下 久保 佐野 野村 松尾 市川 菊地 杉本 古川 大西 島田 水野 桜井 高野
    渡邊 吉川 山内 西田 飯田 菊池 西川 小松 北村 安田 五十嵐 川口 平田 関 中田 久保田 服部 東
    岩田 土屋 川崎 福島 本田 辻 樋口 秋山 田口 永井 山中 中西 吉村 川上 石原 大橋 松岡 馬場
    浅野 荒木 大久保 野田 小沢 田辺 川村 星野 黒田 堀 尾崎 望月 永田 熊谷 内藤 松村 西山 大谷
    平井 大島 岩本 片山 本間 早川 横田 岡崎 荒井 大石 鎌田 成田 宮田 小田 石橋 篠原 須藤 河合
    高山 吉野 大川 小池 宇野 松下 榎本 今村 浜田 堀内 片岡 青山 北川 小西 福井 西岡 奥村 松浦
    井口 若林
    """.split()  # noqa: SIM905 - a word list reads better as text
)

ROMAJI_SURNAMES: frozenset[str] = frozenset(
    """
    sato satou suzuki takahashi tanaka ito itou watanabe yamamoto nakamura kobayashi kato
    katou yoshida yamada sasaki yamaguchi matsumoto inoue kimura hayashi saito saitou shimizu
    yamazaki yamasaki mori ikeda hashimoto abe ishikawa yamashita nakajima ishii ogawa maeda
    okada hasegawa fujita goto gotou kondo kondou murakami endo endou aoki sakamoto
    fukuda ota oota ohta nishimura fujii kaneko okamoto fujiwara nakano miura harada
    nakagawa matsuda takeuchi ono tamura nakayama wada ishida morita ueda hara uchida
    shibata sakai miyazaki yokoyama takagi ando andou miyamoto kojima taniguchi imai kudo
    kudou takada masuda maruyama sugiyama murata otsuka arai koyama hirano fujimoto kono
    kouno ueno noguchi takeda matsui chiba iwasaki sugawara kinoshita kubo sano nomura
    matsuo ichikawa kikuchi sugimoto furukawa onishi shimada mizuno sakurai takano yoshikawa yamauchi
    nishida iida nishikawa komatsu kitamura yasuda igarashi kawaguchi hirata seki nakata hattori
    higashi iwata tsuchiya kawasaki fukushima honda tsuji higuchi akiyama taguchi nagai yamanaka
    nakanishi yoshimura kawakami ishihara ohashi matsuoka baba asano araki okubo noda ozawa
    tanabe kawamura hoshino kuroda hori ozaki mochizuki nagata kumagai naito matsumura nishiyama
    otani hirai oshima iwamoto katayama honma hayakawa yokota
    """.split()  # noqa: SIM905
)

# Job titles and honorifics that follow a surname ("佐藤部長", "山田様"): the word before them is a person.
TITLE_WORDS: tuple[str, ...] = (
    "様", "さま", "さん", "氏", "殿", "君", "くん", "ちゃん", "先生", "社長", "部長", "課長", "係長", "主任",
    "室長", "次長", "専務", "常務", "所長", "店長", "支店長", "会長", "副社長", "本部長", "取締役",
)  # fmt: skip
