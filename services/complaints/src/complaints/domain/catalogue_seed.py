"""The seeded categories: the matters a compound's residents bring to the red-property service center.

Deadline rules: water and electricity are utilities (24 h); fee disputes involve the property company, the owners'
committee and often the accounts, so they are complex (15 days); the rest are general (7 days). An emergency (a
burst main, a fire exit chained shut) is filed with emergency priority, which brings any category down to 2 hours.
"""

from typing import Final

from complaints.domain.catalogue import Category
from complaints.domain.deadlines import DeadlineRule
from complaints.domain.questions import Datatype, Question, QuestionValue


def _choice(key: str, name_zh: str, name_en: str) -> QuestionValue:
    return QuestionValue(key=key, name_zh=name_zh, name_en=name_en)


def _since() -> Question:
    return Question(
        code="since",
        datatype=Datatype.DATETIME,
        description_zh="问题从什么时候开始？",
        description_en="Since when has this been happening?",
    )


_FLOOR = Question(
    code="floor",
    datatype=Datatype.STRING,
    description_zh="在几楼？",
    description_en="Which floor?",
)

HALLWAY_CLEANING = Category(
    code="hallway_cleaning",
    name_zh="楼道保洁",
    name_en="Hallway cleaning",
    description_zh="楼道、电梯厅、楼梯间的卫生与杂物堆放",
    description_en="Cleanliness of hallways, lift lobbies and stairwells, and things stored in them",
    group="环境卫生 Environment",
    keywords=("保洁", "垃圾", "杂物", "cleaning", "rubbish"),
    deadline_rule=DeadlineRule.GENERAL,
    questions=(
        Question(
            code="location",
            datatype=Datatype.SINGLEVALUELIST,
            required=True,
            description_zh="问题在哪里？",
            description_en="Where is the problem?",
            values=(
                _choice("stairwell", "楼梯间", "Stairwell"),
                _choice("corridor", "楼道", "Corridor"),
                _choice("lift_lobby", "电梯厅", "Lift lobby"),
                _choice("bicycle_room", "车棚 / 自行车库", "Bicycle room"),
            ),
        ),
        Question(
            code="problem",
            datatype=Datatype.MULTIVALUELIST,
            required=True,
            description_zh="是什么问题？（可多选）",
            description_en="What is wrong? (choose all that apply)",
            values=(
                _choice("not_cleaned", "长期无人打扫", "Not cleaned"),
                _choice("rubbish", "垃圾未清运", "Rubbish not removed"),
                _choice("clutter", "杂物堆放", "Things stored in the way"),
                _choice("fire_exit_blocked", "堵塞消防通道", "Fire exit blocked"),
            ),
        ),
        _FLOOR,
    ),
)

ELECTRICITY = Category(
    code="electricity",
    name_zh="用电及电费欠费",
    name_en="Electricity and utility arrears",
    description_zh="停电、电表、物业拖欠电费、一户一表直供电改造",
    description_en="Power cuts, meters, electricity arrears of the property company, direct-supply retrofit",
    group="水电气 Utilities",
    keywords=("停电", "欠费", "电表", "直供电", "power", "arrears"),
    deadline_rule=DeadlineRule.UTILITY,
    questions=(
        Question(
            code="issue",
            datatype=Datatype.SINGLEVALUELIST,
            required=True,
            description_zh="是什么问题？",
            description_en="What is the problem?",
            values=(
                _choice("power_cut", "停电", "Power cut"),
                _choice("arrears", "物业拖欠电费 / 欠费停电通知", "Arrears / disconnection notice"),
                _choice("meter", "电表问题", "Meter problem"),
                _choice("direct_supply", "一户一表直供电改造", "Direct supply (one meter per household)"),
                _choice("billing", "电费收费不清", "Unclear electricity charges"),
            ),
        ),
        Question(
            code="households_affected",
            datatype=Datatype.NUMBER,
            description_zh="大约影响多少户？",
            description_en="About how many households are affected?",
        ),
        _since(),
    ),
)

WATER = Category(
    code="water",
    name_zh="供水",
    name_en="Water supply",
    description_zh="停水、水压、水质、漏水、水费",
    description_en="No water, pressure, quality, leaks, water charges",
    group="水电气 Utilities",
    keywords=("停水", "漏水", "水费", "water", "leak"),
    deadline_rule=DeadlineRule.UTILITY,
    questions=(
        Question(
            code="issue",
            datatype=Datatype.SINGLEVALUELIST,
            required=True,
            description_zh="是什么问题？",
            description_en="What is the problem?",
            values=(
                _choice("no_water", "停水", "No water"),
                _choice("low_pressure", "水压低", "Low pressure"),
                _choice("quality", "水质问题", "Water quality"),
                _choice("leak", "管道漏水", "Leaking pipe"),
                _choice("billing", "水费收费不清", "Unclear water charges"),
            ),
        ),
        _since(),
    ),
)

PROPERTY_FEES = Category(
    code="property_fees",
    name_zh="物业费",
    name_en="Property fees",
    description_zh="物业费标准、收费与服务不符、催缴方式、公共收益",
    description_en="Fee levels, fees out of line with the service, collection practices, common-area income",
    group="物业服务 Property services",
    keywords=("物业费", "收费", "催缴", "fees"),
    deadline_rule=DeadlineRule.COMPLEX,
    questions=(
        Question(
            code="issue",
            datatype=Datatype.SINGLEVALUELIST,
            required=True,
            description_zh="是什么问题？",
            description_en="What is the problem?",
            values=(
                _choice("overcharge", "多收 / 乱收费", "Overcharged"),
                _choice("unclear_bill", "收费明细不清", "Unclear bill"),
                _choice("service_not_matching", "收费与服务不符", "Service does not match the fee"),
                _choice("collection_practice", "催缴方式不当", "Improper collection practice"),
                _choice("common_income", "公共收益不公开", "Common-area income not disclosed"),
            ),
        ),
        Question(
            code="period",
            datatype=Datatype.STRING,
            description_zh="涉及哪个收费期间？",
            description_en="Which billing period?",
        ),
    ),
)

REPAIRS = Category(
    code="repairs",
    name_zh="维修",
    name_en="Repairs",
    description_zh="电梯、屋面渗漏、公共管道、门窗、照明等公共部位维修",
    description_en="Lifts, roof leaks, shared pipes, doors and windows, lighting and other shared parts",
    group="物业服务 Property services",
    keywords=("维修", "电梯", "漏水", "repair", "lift"),
    deadline_rule=DeadlineRule.GENERAL,
    questions=(
        Question(
            code="what",
            datatype=Datatype.SINGLEVALUELIST,
            required=True,
            description_zh="需要维修什么？",
            description_en="What needs repair?",
            values=(
                _choice("lift", "电梯", "Lift"),
                _choice("roof_leak", "屋面渗漏", "Roof leak"),
                _choice("pipes", "公共管道", "Shared pipes"),
                _choice("doors_windows", "单元门 / 窗户", "Entrance door / windows"),
                _choice("lighting", "公共照明", "Shared lighting"),
                _choice("other", "其他", "Other"),
            ),
        ),
        _FLOOR,
        Question(
            code="residents_at_risk",
            datatype=Datatype.SINGLEVALUELIST,
            description_zh="是否有安全隐患？",
            description_en="Is anyone at risk?",
            values=(_choice("yes", "是", "Yes"), _choice("no", "否", "No")),
        ),
    ),
)

SECURITY = Category(
    code="security",
    name_zh="安全",
    name_en="Security",
    description_zh="消防、门禁、监控、可疑情况",
    description_en="Fire safety, access control, CCTV, suspicious activity",
    group="安全 Safety",
    keywords=("消防", "门禁", "监控", "security", "fire"),
    deadline_rule=DeadlineRule.GENERAL,
    questions=(
        Question(
            code="kind",
            datatype=Datatype.SINGLEVALUELIST,
            required=True,
            description_zh="是什么情况？",
            description_en="What kind of matter?",
            values=(
                _choice("fire_safety", "消防隐患", "Fire hazard"),
                _choice("access_control", "门禁损坏", "Access control broken"),
                _choice("cctv", "监控失灵", "CCTV not working"),
                _choice("suspicious", "可疑人员或情况", "Suspicious activity"),
                _choice("ebike_charging", "电动车违规充电", "E-bike charged indoors"),
            ),
        ),
        Question(
            code="ongoing",
            datatype=Datatype.SINGLEVALUELIST,
            description_zh="现在是否仍在发生？",
            description_en="Is it still happening now?",
            values=(_choice("yes", "是", "Yes"), _choice("no", "否", "No")),
        ),
    ),
)

NOISE = Category(
    code="noise",
    name_zh="噪音",
    name_en="Noise",
    description_zh="装修、设备、商铺、邻里噪音",
    description_en="Renovation, equipment, shops, neighbours",
    group="环境卫生 Environment",
    keywords=("噪音", "装修", "扰民", "noise"),
    deadline_rule=DeadlineRule.GENERAL,
    questions=(
        Question(
            code="source",
            datatype=Datatype.SINGLEVALUELIST,
            required=True,
            description_zh="噪音来自哪里？",
            description_en="Where does the noise come from?",
            values=(
                _choice("renovation", "装修", "Renovation"),
                _choice("equipment", "水泵 / 风机等设备", "Pumps, fans or other equipment"),
                _choice("shop", "商铺", "Shop"),
                _choice("neighbours", "邻里", "Neighbours"),
                _choice("other", "其他", "Other"),
            ),
        ),
        Question(
            code="time_of_day",
            datatype=Datatype.MULTIVALUELIST,
            description_zh="通常在什么时段？（可多选）",
            description_en="At what times of day? (choose all that apply)",
            values=(
                _choice("morning", "上午", "Morning"),
                _choice("afternoon", "下午", "Afternoon"),
                _choice("evening", "晚上", "Evening"),
                _choice("night", "夜间（22点后）", "Night (after 22:00)"),
            ),
        ),
        _since(),
    ),
)

GREENING = Category(
    code="greening",
    name_zh="绿化",
    name_en="Greening",
    description_zh="绿化养护、树木隐患、毁绿占绿",
    description_en="Care of green spaces, dangerous trees, green space taken over",
    group="环境卫生 Environment",
    keywords=("绿化", "树木", "草坪", "greening", "trees"),
    deadline_rule=DeadlineRule.GENERAL,
    questions=(
        Question(
            code="issue",
            datatype=Datatype.SINGLEVALUELIST,
            required=True,
            description_zh="是什么问题？",
            description_en="What is the problem?",
            values=(
                _choice("overgrown", "缺乏修剪", "Overgrown"),
                _choice("dead_plants", "苗木枯死", "Dead plants"),
                _choice("tree_hazard", "树木倒伏隐患", "Tree at risk of falling"),
                _choice("occupied", "毁绿占绿 / 私自种菜", "Green space taken over"),
            ),
        ),
        Question(
            code="where",
            datatype=Datatype.STRING,
            description_zh="具体位置",
            description_en="Where exactly?",
        ),
    ),
)

SEED_CATEGORIES: Final = (
    HALLWAY_CLEANING,
    ELECTRICITY,
    WATER,
    PROPERTY_FEES,
    REPAIRS,
    SECURITY,
    NOISE,
    GREENING,
)
