package codeinterptest

import (
	"encoding/json"
	"math"
	"reflect"
	"strconv"
	"strings"
)

// Task is a typical data task a model writes code for, with reference
// programs in JavaScript and Python written the way models write them
// (modern syntax, the language's usual idioms, reading files the usual
// way) and the expected answer: the last line the program prints.
type Task struct {
	Name string
	// Files are put in the sandbox before the program runs.
	Files map[string]string
	// JS and Python are the reference programs.
	JS, Python string
	// Want is the expected last line of output (numbers compare within
	// 1e-6 relative; JSON compares by value).
	Want string
}

// Correct reports whether a program's output answers the task: its last
// non-empty line equals Want, as numbers within 1e-6 relative when both are
// numbers, as values when both are JSON, or as text.
func (t Task) Correct(stdout string) bool {
	lines := strings.Split(strings.TrimRight(stdout, " \n\r\t"), "\n")
	got := strings.TrimSpace(lines[len(lines)-1])
	want := strings.TrimSpace(t.Want)
	if got == want {
		return true
	}
	if a, err := strconv.ParseFloat(got, 64); err == nil {
		if b, err := strconv.ParseFloat(want, 64); err == nil {
			return math.Abs(a-b) <= 1e-6*math.Max(1, math.Abs(b))
		}
	}
	var a, b any
	if json.Unmarshal([]byte(got), &a) == nil && json.Unmarshal([]byte(want), &b) == nil {
		return reflect.DeepEqual(a, b)
	}
	return false
}

// TransactionsCSV is the bank transactions file several tasks read.
const TransactionsCSV = `date,description,category,amount
2024-01-03,Grocery Mart,groceries,82.45
2024-01-05,City Power,utilities,120.00
2024-01-08,Coffee Corner,dining,4.75
2024-01-12,Grocery Mart,groceries,64.30
2024-01-15,Streamflix,subscriptions,15.99
2024-01-20,Fuel Stop,transport,45.10
2024-01-28,Rent,housing,1450.00
2024-02-02,Coffee Corner,dining,5.25
2024-02-06,Grocery Mart,groceries,91.80
2024-02-09,City Power,utilities,110.50
2024-02-14,Bistro Luna,dining,68.40
2024-02-15,Streamflix,subscriptions,15.99
2024-02-19,Fuel Stop,transport,52.35
2024-02-27,Rent,housing,1450.00
2024-03-01,Coffee Corner,dining,4.75
2024-03-04,Grocery Mart,groceries,77.15
2024-03-08,City Power,utilities,98.20
2024-03-11,Pharmacy Plus,health,23.60
2024-03-15,Streamflix,subscriptions,15.99
2024-03-18,Fuel Stop,transport,48.90
2024-03-22,Bookshop,shopping,36.00
2024-03-27,Rent,housing,1450.00
2024-03-29,Coffee Corner,dining,4.75
2024-03-29,Coffee Corner,dining,4.75
`

// AccountsJSON is the accounts file the JSON tasks read.
const AccountsJSON = `{"customer": "C-1042", "accounts": [
  {"id": "chk-1", "type": "checking", "balance": 2450.75, "transactions": [{"amount": -120.5, "merchant": "City Power"}, {"amount": 2300, "merchant": "Payroll"}, {"amount": -64.3, "merchant": "Grocery Mart"}]},
  {"id": "sav-1", "type": "savings", "balance": 10200.00, "transactions": [{"amount": 500, "merchant": "Transfer"}, {"amount": 12.75, "merchant": "Interest"}]},
  {"id": "cc-1", "type": "credit", "balance": -842.19, "transactions": [{"amount": -68.4, "merchant": "Bistro Luna"}, {"amount": -36, "merchant": "Bookshop"}, {"amount": -15.99, "merchant": "Streamflix"}, {"amount": 400, "merchant": "Payment"}]}
]}`

var tx = map[string]string{"transactions.csv": TransactionsCSV}
var accounts = map[string]string{"accounts.json": AccountsJSON}

// Tasks returns the task set.
func Tasks() []Task {
	return []Task{
		{Name: "sum of amounts",
			JS:     "const amounts = [120.5, 89.99, 45.25, 300, 15.75];\nconst total = amounts.reduce((sum, a) => sum + a, 0);\nconsole.log(`Total: ${total.toFixed(2)}`);",
			Python: "amounts = [120.5, 89.99, 45.25, 300, 15.75]\ntotal = sum(amounts)\nprint(f\"Total: {total:.2f}\")",
			Want:   "Total: 571.49"},
		{Name: "average",
			JS:     "const scores = [88, 92, 79, 65, 95, 71];\nconst avg = scores.reduce((a, b) => a + b, 0) / scores.length;\nconsole.log(avg.toFixed(2));",
			Python: "scores = [88, 92, 79, 65, 95, 71]\navg = sum(scores) / len(scores)\nprint(f\"{avg:.2f}\")",
			Want:   "81.67"},
		{Name: "median",
			JS:     "const values = [12, 5, 8, 21, 3, 17, 9, 14];\nconst sorted = [...values].sort((a, b) => a - b);\nconst mid = Math.floor(sorted.length / 2);\nconst median = sorted.length % 2 === 0 ? (sorted[mid - 1] + sorted[mid]) / 2 : sorted[mid];\nconsole.log(median);",
			Python: "import statistics\nvalues = [12, 5, 8, 21, 3, 17, 9, 14]\nprint(statistics.median(values))",
			Want:   "10.5"},
		{Name: "percentage change",
			JS:     "const lastMonth = 2450.00;\nconst thisMonth = 2891.75;\nconst change = ((thisMonth - lastMonth) / lastMonth) * 100;\nconsole.log(`${change.toFixed(1)}%`);",
			Python: "last_month = 2450.00\nthis_month = 2891.75\nchange = (this_month - last_month) / last_month * 100\nprint(f\"{change:.1f}%\")",
			Want:   "18.0%"},
		{Name: "compound interest",
			JS:     "const principal = 10000;\nconst rate = 0.045;\nconst n = 12;\nconst years = 10;\nconst amount = principal * Math.pow(1 + rate / n, n * years);\nconsole.log(amount.toFixed(2));",
			Python: "principal = 10000\nrate = 0.045\nn = 12\nyears = 10\namount = principal * (1 + rate / n) ** (n * years)\nprint(f\"{amount:.2f}\")",
			Want:   "15669.93"},
		{Name: "simple interest",
			JS:     "const principal = 5000, rate = 3.5, years = 4;\nconst interest = (principal * rate * years) / 100;\nconsole.log(`Interest: $${interest.toFixed(2)}, Total: $${(principal + interest).toFixed(2)}`);",
			Python: "principal, rate, years = 5000, 3.5, 4\ninterest = principal * rate * years / 100\nprint(f\"Interest: ${interest:.2f}, Total: ${principal + interest:.2f}\")",
			Want:   "Interest: $700.00, Total: $5700.00"},
		{Name: "loan monthly payment",
			JS:     "function monthlyPayment(principal, annualRate, years) {\n  const r = annualRate / 12;\n  const n = years * 12;\n  return (principal * r * Math.pow(1 + r, n)) / (Math.pow(1 + r, n) - 1);\n}\nconsole.log(monthlyPayment(250000, 0.065, 30).toFixed(2));",
			Python: "def monthly_payment(principal, annual_rate, years):\n    r = annual_rate / 12\n    n = years * 12\n    return principal * r * (1 + r) ** n / ((1 + r) ** n - 1)\n\nprint(f\"{monthly_payment(250000, 0.065, 30):.2f}\")",
			Want:   "1580.17"},
		{Name: "amortization balance after 24 payments",
			JS:     "const principal = 18000, annualRate = 0.079, months = 60;\nconst r = annualRate / 12;\nconst payment = principal * r / (1 - Math.pow(1 + r, -months));\nlet balance = principal;\nlet totalInterest = 0;\nfor (let i = 0; i < 24; i++) {\n  const interest = balance * r;\n  totalInterest += interest;\n  balance -= payment - interest;\n}\nconsole.log(`Balance: ${balance.toFixed(2)}, interest paid: ${totalInterest.toFixed(2)}`);",
			Python: "principal, annual_rate, months = 18000, 0.079, 60\nr = annual_rate / 12\npayment = principal * r / (1 - (1 + r) ** -months)\nbalance = principal\ntotal_interest = 0\nfor _ in range(24):\n    interest = balance * r\n    total_interest += interest\n    balance -= payment - interest\nprint(f\"Balance: {balance:.2f}, interest paid: {total_interest:.2f}\")",
			Want:   "Balance: 11636.67, interest paid: 2375.41"},
		{Name: "csv total spending", Files: tx,
			JS:     "const fs = require('fs');\nconst lines = fs.readFileSync('transactions.csv', 'utf8').trim().split('\\n');\nconst rows = lines.slice(1).map(line => {\n  const [date, description, category, amount] = line.split(',');\n  return { date, description, category, amount: parseFloat(amount) };\n});\nconst total = rows.reduce((sum, r) => sum + r.amount, 0);\nconsole.log(`Total spending: $${total.toFixed(2)}`);",
			Python: "import csv\n\nwith open('transactions.csv') as f:\n    rows = list(csv.DictReader(f))\ntotal = sum(float(r['amount']) for r in rows)\nprint(f\"Total spending: ${total:.2f}\")",
			Want:   "Total spending: $5340.97"},
		{Name: "csv spending by category", Files: tx,
			JS:     "const fs = require('fs');\nconst [header, ...lines] = fs.readFileSync('transactions.csv', 'utf-8').trim().split('\\n');\nconst totals = {};\nfor (const line of lines) {\n  const [, , category, amount] = line.split(',');\n  totals[category] = (totals[category] || 0) + Number(amount);\n}\nconst sorted = Object.entries(totals).sort((a, b) => b[1] - a[1]);\nfor (const [cat, amt] of sorted) console.log(`${cat}: ${amt.toFixed(2)}`);\nconsole.log(sorted.slice(0, 3).map(([c, a]) => `${c}=${a.toFixed(2)}`).join(', '));",
			Python: "import csv\nfrom collections import defaultdict\n\ntotals = defaultdict(float)\nwith open('transactions.csv', newline='') as f:\n    for row in csv.DictReader(f):\n        totals[row['category']] += float(row['amount'])\nranked = sorted(totals.items(), key=lambda kv: kv[1], reverse=True)\nfor cat, amt in ranked:\n    print(f\"{cat}: {amt:.2f}\")\nprint(', '.join(f\"{c}={a:.2f}\" for c, a in ranked[:3]))",
			Want:   "housing=4350.00, utilities=328.70, groceries=315.70"},
		{Name: "csv count per category", Files: tx,
			JS:     "const data = require('fs').readFileSync('./transactions.csv', 'utf8');\nconst rows = data.split(/\\r?\\n/).filter(Boolean).slice(1);\nconst counts = new Map();\nrows.forEach(r => {\n  const cat = r.split(',')[2];\n  counts.set(cat, (counts.get(cat) ?? 0) + 1);\n});\nconst top = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0];\nconsole.log(`${top[0]} ${top[1]}`);",
			Python: "import csv\nfrom collections import Counter\n\nwith open('transactions.csv') as f:\n    counts = Counter(row['category'] for row in csv.DictReader(f))\ncat, n = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0]\nprint(f\"{cat} {n}\")",
			Want:   "dining 6"},
		{Name: "csv average transaction", Files: tx,
			JS:     "const text = readFile('transactions.csv');\nconst amounts = text.trim().split('\\n').slice(1).map(l => +l.split(',').at(-1));\nconst avg = amounts.reduce((a, b) => a + b) / amounts.length;\nconsole.log(Math.round(avg * 100) / 100);",
			Python: "import csv\n\nwith open('transactions.csv') as f:\n    amounts = [float(r['amount']) for r in csv.DictReader(f)]\nprint(round(sum(amounts) / len(amounts), 2))",
			Want:   "222.54"},
		{Name: "csv largest purchase outside housing", Files: tx,
			JS:     "const rows = require('fs').readFileSync('transactions.csv', 'utf8').trim().split('\\n').slice(1)\n  .map(l => l.split(','))\n  .map(([date, description, category, amount]) => ({ date, description, category, amount: Number(amount) }));\nconst biggest = rows.filter(r => r.category !== 'housing').reduce((max, r) => (r.amount > max.amount ? r : max));\nconsole.log(`${biggest.description} on ${biggest.date}: ${biggest.amount.toFixed(2)}`);",
			Python: "import csv\n\nwith open('transactions.csv') as f:\n    rows = [r for r in csv.DictReader(f) if r['category'] != 'housing']\nbiggest = max(rows, key=lambda r: float(r['amount']))\nprint(f\"{biggest['description']} on {biggest['date']}: {float(biggest['amount']):.2f}\")",
			Want:   "City Power on 2024-01-05: 120.00"},
		{Name: "csv monthly totals", Files: tx,
			JS:     "const fs = require('fs');\nconst rows = fs.readFileSync('transactions.csv', 'utf8').trim().split('\\n').slice(1);\nconst byMonth = {};\nfor (const row of rows) {\n  const [date, , , amount] = row.split(',');\n  const month = date.slice(0, 7);\n  byMonth[month] = (byMonth[month] ?? 0) + parseFloat(amount);\n}\nconsole.log(Object.keys(byMonth).sort().map(m => `${m}: ${byMonth[m].toFixed(2)}`).join('; '));",
			Python: "import csv\nfrom collections import defaultdict\n\nby_month = defaultdict(float)\nwith open('transactions.csv') as f:\n    for r in csv.DictReader(f):\n        by_month[r['date'][:7]] += float(r['amount'])\nprint('; '.join(f\"{m}: {v:.2f}\" for m, v in sorted(by_month.items())))",
			Want:   "2024-01: 1782.59; 2024-02: 1794.29; 2024-03: 1764.09"},
		{Name: "csv share of spending", Files: tx,
			JS:     "const rows = readFile('transactions.csv').trim().split('\\n').slice(1).map(l => l.split(','));\nconst total = rows.reduce((s, r) => s + Number(r[3]), 0);\nconst dining = rows.filter(r => r[2] === 'dining').reduce((s, r) => s + Number(r[3]), 0);\nconsole.log(`Dining is ${((dining / total) * 100).toFixed(2)}% of spending`);",
			Python: "import csv\n\nwith open('transactions.csv') as f:\n    rows = list(csv.DictReader(f))\ntotal = sum(float(r['amount']) for r in rows)\ndining = sum(float(r['amount']) for r in rows if r['category'] == 'dining')\nprint(f\"Dining is {dining / total * 100:.2f}% of spending\")",
			Want:   "Dining is 1.73% of spending"},
		{Name: "csv filter large transactions", Files: tx,
			JS:     "const fs = require('fs');\nconst rows = fs.readFileSync('transactions.csv', 'utf8').trim().split('\\n').slice(1).map(l => l.split(','));\nconst large = rows.filter(([, , , amt]) => parseFloat(amt) > 75);\nconsole.log(large.length, large.filter(r => r[2] !== 'housing').map(r => r[1]).join('|'));",
			Python: "import csv\n\nwith open('transactions.csv') as f:\n    rows = list(csv.reader(f))[1:]\nlarge = [r for r in rows if float(r[3]) > 75]\nprint(len(large), '|'.join(r[1] for r in large if r[2] != 'housing'))",
			Want:   "9 Grocery Mart|City Power|Grocery Mart|City Power|Grocery Mart|City Power"},
		{Name: "csv top three merchants", Files: tx,
			JS:     "const rows = require('fs').readFileSync('transactions.csv', 'utf8').trim().split('\\n').slice(1).map(l => l.split(','));\nconst byMerchant = rows.reduce((acc, [, desc, , amt]) => {\n  acc[desc] = (acc[desc] || 0) + Number(amt);\n  return acc;\n}, {});\nconst top3 = Object.entries(byMerchant).sort(([, a], [, b]) => b - a).slice(0, 3);\nconsole.log(top3.map(([m, v]) => `${m} (${v.toFixed(2)})`).join(', '));",
			Python: "import csv\nfrom collections import defaultdict\n\nby_merchant = defaultdict(float)\nwith open('transactions.csv') as f:\n    for r in csv.DictReader(f):\n        by_merchant[r['description']] += float(r['amount'])\ntop3 = sorted(by_merchant.items(), key=lambda kv: kv[1], reverse=True)[:3]\nprint(', '.join(f\"{m} ({v:.2f})\" for m, v in top3))",
			Want:   "Rent (4350.00), City Power (328.70), Grocery Mart (315.70)"},
		{Name: "days between dates",
			JS:     "const start = new Date('2024-01-15');\nconst end = new Date('2024-11-03');\nconst days = Math.round((end - start) / (1000 * 60 * 60 * 24));\nconsole.log(days);",
			Python: "from datetime import date\nprint((date(2024, 11, 3) - date(2024, 1, 15)).days)",
			Want:   "293"},
		{Name: "add 90 days",
			JS:     "const d = new Date('2024-12-15T00:00:00Z');\nd.setUTCDate(d.getUTCDate() + 90);\nconsole.log(d.toISOString().split('T')[0]);",
			Python: "from datetime import date, timedelta\nprint((date(2024, 12, 15) + timedelta(days=90)).isoformat())",
			Want:   "2025-03-15"},
		{Name: "day of week",
			JS:     "const days = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];\nconst date = new Date(2024, 6, 4);\nconsole.log(days[date.getDay()]);",
			Python: "from datetime import date\nprint(date(2024, 7, 4).strftime('%A'))",
			Want:   "Thursday"},
		{Name: "weekday name with toLocaleDateString",
			JS:     "const d = new Date('2025-02-14');\nconsole.log(d.toLocaleDateString('en-US', { weekday: 'long', year: 'numeric', month: 'long', day: 'numeric' }));",
			Python: "from datetime import date\nd = date(2025, 2, 14)\nprint(d.strftime('%A, %B ') + str(d.day) + d.strftime(', %Y'))",
			Want:   "Friday, February 14, 2025"},
		{Name: "months between dates",
			JS:     "const a = new Date('2021-03-31'), b = new Date('2024-08-15');\nlet months = (b.getFullYear() - a.getFullYear()) * 12 + (b.getMonth() - a.getMonth());\nif (b.getDate() < a.getDate()) months--;\nconsole.log(months);",
			Python: "from datetime import date\na, b = date(2021, 3, 31), date(2024, 8, 15)\nmonths = (b.year - a.year) * 12 + b.month - a.month\nif b.day < a.day:\n    months -= 1\nprint(months)",
			Want:   "40"},
		{Name: "age in years",
			JS:     "function age(birth, today) {\n  let years = today.getFullYear() - birth.getFullYear();\n  const m = today.getMonth() - birth.getMonth();\n  if (m < 0 || (m === 0 && today.getDate() < birth.getDate())) years--;\n  return years;\n}\nconsole.log(age(new Date('1988-09-23'), new Date('2024-09-22')));",
			Python: "from datetime import date\nbirth, today = date(1988, 9, 23), date(2024, 9, 22)\nyears = today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))\nprint(years)",
			Want:   "35"},
		{Name: "business days",
			JS:     "let count = 0;\nconst d = new Date('2024-03-01');\nconst end = new Date('2024-03-31');\nwhile (d <= end) {\n  const day = d.getUTCDay();\n  if (day !== 0 && day !== 6) count++;\n  d.setUTCDate(d.getUTCDate() + 1);\n}\nconsole.log(count);",
			Python: "from datetime import date, timedelta\nd, end = date(2024, 3, 1), date(2024, 3, 31)\ncount = 0\nwhile d <= end:\n    if d.weekday() < 5:\n        count += 1\n    d += timedelta(days=1)\nprint(count)",
			Want:   "21"},
		{Name: "currency formatting",
			JS:     "const fmt = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' });\nconsole.log([1234567.891, -42.5, 0.128].map(v => fmt.format(v)).join(' '));",
			Python: "vals = [1234567.891, -42.5, 0.128]\nprint(' '.join(f\"-${abs(v):,.2f}\" if v < 0 else f\"${v:,.2f}\" for v in vals))",
			Want:   "$1,234,567.89 -$42.50 $0.13"},
		{Name: "thousands separators",
			JS:     "const n = 98765432.1;\nconsole.log(n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 }));",
			Python: "n = 98765432.1\nprint(f\"{n:,.2f}\")",
			Want:   "98,765,432.10"},
		{Name: "thousands separators with a regex",
			JS:     "const formatNumber = (x) => x.toFixed(2).replace(/\\B(?=(\\d{3})+(?!\\d))/g, ',');\nconsole.log(formatNumber(1234567.5));",
			Python: "print('{:,.2f}'.format(1234567.5))",
			Want:   "1,234,567.50"},
		{Name: "text table", Files: tx,
			JS:     "const rows = require('fs').readFileSync('transactions.csv', 'utf8').trim().split('\\n').slice(1).map(l => l.split(','));\nconst totals = {};\nrows.forEach(([, , c, a]) => { totals[c] = (totals[c] || 0) + +a; });\nconsole.log('Category'.padEnd(15) + 'Amount'.padStart(10));\nconsole.log('-'.repeat(25));\nfor (const [c, a] of Object.entries(totals).sort((x, y) => y[1] - x[1])) {\n  console.log(c.padEnd(15) + a.toFixed(2).padStart(10));\n}",
			Python: "import csv\nfrom collections import defaultdict\ntotals = defaultdict(float)\nwith open('transactions.csv') as f:\n    for r in csv.DictReader(f):\n        totals[r['category']] += float(r['amount'])\nprint(f\"{'Category':<15}{'Amount':>10}\")\nprint('-' * 25)\nfor c, a in sorted(totals.items(), key=lambda kv: -kv[1]):\n    print(f\"{c:<15}{a:>10.2f}\")",
			Want:   "health              23.60"},
		{Name: "json total balance", Files: accounts,
			JS:     "const data = JSON.parse(require('fs').readFileSync('accounts.json', 'utf8'));\nconst total = data.accounts.reduce((sum, acc) => sum + acc.balance, 0);\nconsole.log(`Net worth: ${total.toFixed(2)}`);",
			Python: "import json\n\nwith open('accounts.json') as f:\n    data = json.load(f)\ntotal = sum(acc['balance'] for acc in data['accounts'])\nprint(f\"Net worth: {total:.2f}\")",
			Want:   "Net worth: 11808.56"},
		{Name: "json flatten and group", Files: accounts,
			JS:     "const { accounts } = JSON.parse(readFile('accounts.json'));\nconst txs = accounts.flatMap(a => a.transactions.map(t => ({ ...t, account: a.id })));\nconst outflow = txs.filter(t => t.amount < 0);\nconst byAccount = Object.groupBy(outflow, t => t.account);\nconst result = Object.fromEntries(Object.entries(byAccount).map(([k, v]) => [k, Math.round(v.reduce((s, t) => s - t.amount, 0) * 100) / 100]));\nconsole.log(JSON.stringify(result));",
			Python: "import json\nfrom collections import defaultdict\n\nwith open('accounts.json') as f:\n    data = json.load(f)\nresult = defaultdict(float)\nfor acc in data['accounts']:\n    for t in acc['transactions']:\n        if t['amount'] < 0:\n            result[acc['id']] -= t['amount']\nprint(json.dumps({k: round(v, 2) for k, v in result.items()}))",
			Want:   "{\"chk-1\": 184.8, \"cc-1\": 120.39}"},
		{Name: "standard deviation",
			JS:     "const data = [2.5, 3.1, 4.7, 5.0, 6.2, 7.9, 8.4];\nconst mean = data.reduce((a, b) => a + b, 0) / data.length;\nconst variance = data.reduce((s, x) => s + (x - mean) ** 2, 0) / (data.length - 1);\nconsole.log(Math.sqrt(variance).toFixed(4));",
			Python: "import statistics\ndata = [2.5, 3.1, 4.7, 5.0, 6.2, 7.9, 8.4]\nprint(f\"{statistics.stdev(data):.4f}\")",
			Want:   "2.2450"},
		{Name: "weighted average",
			JS:     "const holdings = [\n  { ticker: 'AAA', shares: 120, price: 35.2 },\n  { ticker: 'BBB', shares: 45, price: 210.75 },\n  { ticker: 'CCC', shares: 300, price: 12.1 },\n];\nconst totalShares = holdings.reduce((s, h) => s + h.shares, 0);\nconst wavg = holdings.reduce((s, h) => s + h.shares * h.price, 0) / totalShares;\nconsole.log(wavg.toFixed(3));",
			Python: "holdings = [('AAA', 120, 35.2), ('BBB', 45, 210.75), ('CCC', 300, 12.1)]\ntotal_shares = sum(s for _, s, _ in holdings)\nwavg = sum(s * p for _, s, p in holdings) / total_shares\nprint(f\"{wavg:.3f}\")",
			Want:   "37.285"},
		{Name: "CAGR",
			JS:     "const begin = 15000, end = 23850, years = 5;\nconst cagr = (Math.pow(end / begin, 1 / years) - 1) * 100;\nconsole.log(`${cagr.toFixed(2)}%`);",
			Python: "begin, end, years = 15000, 23850, 5\ncagr = ((end / begin) ** (1 / years) - 1) * 100\nprint(f\"{cagr:.2f}%\")",
			Want:   "9.72%"},
		{Name: "NPV",
			JS:     "const rate = 0.08;\nconst cashFlows = [-50000, 12000, 15000, 18000, 20000, 9000];\nconst npv = cashFlows.reduce((acc, cf, t) => acc + cf / (1 + rate) ** t, 0);\nconsole.log(npv.toFixed(2));",
			Python: "rate = 0.08\ncash_flows = [-50000, 12000, 15000, 18000, 20000, 9000]\nnpv = sum(cf / (1 + rate) ** t for t, cf in enumerate(cash_flows))\nprint(f\"{npv:.2f}\")",
			Want:   "9086.02"},
		{Name: "IRR by bisection",
			JS:     "const flows = [-10000, 3000, 4200, 6800];\nconst npv = r => flows.reduce((s, cf, t) => s + cf / Math.pow(1 + r, t), 0);\nlet lo = -0.99, hi = 1;\nfor (let i = 0; i < 200; i++) {\n  const mid = (lo + hi) / 2;\n  if (npv(mid) > 0) lo = mid; else hi = mid;\n}\nconsole.log(`${(((lo + hi) / 2) * 100).toFixed(2)}%`);",
			Python: "flows = [-10000, 3000, 4200, 6800]\ndef npv(r):\n    return sum(cf / (1 + r) ** t for t, cf in enumerate(flows))\nlo, hi = -0.99, 1.0\nfor _ in range(200):\n    mid = (lo + hi) / 2\n    if npv(mid) > 0:\n        lo = mid\n    else:\n        hi = mid\nprint(f\"{(lo + hi) / 2 * 100:.2f}%\")",
			Want:   "16.34%"},
		{Name: "currency conversion",
			JS:     "const rates = { USD: 1, EUR: 0.92, GBP: 0.79, JPY: 151.3 };\nconst amountUSD = 2500;\nconst converted = Object.fromEntries(Object.entries(rates).map(([c, r]) => [c, +(amountUSD * r).toFixed(2)]));\nconsole.log(JSON.stringify(converted));",
			Python: "import json\nrates = {'USD': 1, 'EUR': 0.92, 'GBP': 0.79, 'JPY': 151.3}\namount_usd = 2500\nprint(json.dumps({c: round(amount_usd * r, 2) for c, r in rates.items()}))",
			Want:   "{\"USD\": 2500, \"EUR\": 2300.0, \"GBP\": 1975.0, \"JPY\": 378250.0}"},
		{Name: "bill split with tip",
			JS:     "const bill = 187.40, tipPct = 18, people = 4;\nconst total = bill * (1 + tipPct / 100);\nconst each = Math.ceil((total / people) * 100) / 100;\nconsole.log(`Total ${total.toFixed(2)}, each pays ${each.toFixed(2)}`);",
			Python: "import math\nbill, tip_pct, people = 187.40, 18, 4\ntotal = bill * (1 + tip_pct / 100)\neach = math.ceil(total / people * 100) / 100\nprint(f\"Total {total:.2f}, each pays {each:.2f}\")",
			Want:   "Total 221.13, each pays 55.29"},
		{Name: "budget remaining", Files: tx,
			JS:     "const budget = { groceries: 250, dining: 80, transport: 120, utilities: 300 };\nconst rows = require('fs').readFileSync('transactions.csv', 'utf8').trim().split('\\n').slice(1).map(r => r.split(','));\nconst spent = {};\nfor (const [d, , cat, amt] of rows) if (d.startsWith('2024-03')) spent[cat] = (spent[cat] ?? 0) + Number(amt);\nconst report = Object.keys(budget).map(c => `${c}: ${(((budget[c] - (spent[c] ?? 0)) / budget[c]) * 100).toFixed(1)}% left`);\nconsole.log(report.join(', '));",
			Python: "import csv\nbudget = {'groceries': 250, 'dining': 80, 'transport': 120, 'utilities': 300}\nspent = {}\nwith open('transactions.csv') as f:\n    for r in csv.DictReader(f):\n        if r['date'].startswith('2024-03'):\n            spent[r['category']] = spent.get(r['category'], 0) + float(r['amount'])\nprint(', '.join(f\"{c}: {(b - spent.get(c, 0)) / b * 100:.1f}% left\" for c, b in budget.items()))",
			Want:   "groceries: 69.1% left, dining: 82.2% left, transport: 59.2% left, utilities: 67.3% left"},
		{Name: "running balance minimum", Files: tx,
			JS:     "let balance = 3000;\nlet min = { balance, date: null };\nconst rows = require('fs').readFileSync('transactions.csv', 'utf8').trim().split('\\n').slice(1);\nfor (const line of rows) {\n  const [date, , , amount] = line.split(',');\n  balance -= parseFloat(amount);\n  if (date.endsWith('-01') || date.endsWith('-02')) balance += 0;\n  if (balance < min.balance) min = { balance, date };\n  if (date.slice(5, 7) !== rows[rows.indexOf(line) + 1]?.slice(5, 7)) balance += 1800;\n}\nconsole.log(`${min.balance.toFixed(2)} on ${min.date}`);",
			Python: "import csv\nbalance = 3000.0\nmin_balance, min_date = balance, None\nwith open('transactions.csv') as f:\n    rows = list(csv.DictReader(f))\nfor i, r in enumerate(rows):\n    balance -= float(r['amount'])\n    if balance < min_balance:\n        min_balance, min_date = balance, r['date']\n    nxt = rows[i + 1]['date'][5:7] if i + 1 < len(rows) else None\n    if r['date'][5:7] != nxt:\n        balance += 1800\nprint(f\"{min_balance:.2f} on {min_date}\")",
			Want:   "1217.41 on 2024-01-28"},
		{Name: "duplicate transactions", Files: tx,
			JS:     "const rows = require('fs').readFileSync('transactions.csv', 'utf8').trim().split('\\n').slice(1);\nconst seen = new Set();\nconst dups = rows.filter(r => (seen.has(r) ? true : (seen.add(r), false)));\nconsole.log(`${dups.length} duplicate(s): ${dups.join(' / ')}`);",
			Python: "with open('transactions.csv') as f:\n    rows = f.read().strip().split('\\n')[1:]\nseen = set()\ndups = []\nfor r in rows:\n    if r in seen:\n        dups.append(r)\n    seen.add(r)\nprint(f\"{len(dups)} duplicate(s): {' / '.join(dups)}\")",
			Want:   "1 duplicate(s): 2024-03-29,Coffee Corner,dining,4.75"},
		{Name: "recurring merchants", Files: tx,
			JS:     "const rows = require('fs').readFileSync('transactions.csv', 'utf8').trim().split('\\n').slice(1).map(l => l.split(','));\nconst months = {};\nfor (const [date, merchant] of rows) {\n  (months[merchant] ??= new Set()).add(date.slice(0, 7));\n}\nconst recurring = Object.entries(months).filter(([, s]) => s.size === 3).map(([m]) => m).sort();\nconsole.log(recurring.join(', '));",
			Python: "import csv\nfrom collections import defaultdict\nmonths = defaultdict(set)\nwith open('transactions.csv') as f:\n    for r in csv.DictReader(f):\n        months[r['description']].add(r['date'][:7])\nprint(', '.join(sorted(m for m, s in months.items() if len(s) == 3)))",
			Want:   "City Power, Coffee Corner, Fuel Stop, Grocery Mart, Rent, Streamflix"},
		{Name: "word frequency",
			JS:     "const text = `The quick brown fox jumps over the lazy dog. The dog sleeps; the fox runs. A fox is quick!`;\nconst words = text.toLowerCase().match(/[a-z]+/g);\nconst freq = words.reduce((m, w) => m.set(w, (m.get(w) || 0) + 1), new Map());\nconst top = [...freq].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, 3);\nconsole.log(top.map(([w, c]) => `${w}:${c}`).join(' '));",
			Python: "import re\nfrom collections import Counter\ntext = \"The quick brown fox jumps over the lazy dog. The dog sleeps; the fox runs. A fox is quick!\"\nfreq = Counter(re.findall(r'[a-z]+', text.lower()))\ntop = sorted(freq.items(), key=lambda kv: (-kv[1], kv[0]))[:3]\nprint(' '.join(f\"{w}:{c}\" for w, c in top))",
			Want:   "the:4 fox:3 dog:2"},
		{Name: "count primes",
			JS:     "const limit = 200000;\nconst sieve = new Array(limit + 1).fill(true);\nsieve[0] = sieve[1] = false;\nfor (let i = 2; i * i <= limit; i++) {\n  if (sieve[i]) for (let j = i * i; j <= limit; j += i) sieve[j] = false;\n}\nconsole.log(sieve.filter(Boolean).length);",
			Python: "limit = 200000\nsieve = [True] * (limit + 1)\nsieve[0] = sieve[1] = False\nfor i in range(2, int(limit ** 0.5) + 1):\n    if sieve[i]:\n        for j in range(i * i, limit + 1, i):\n            sieve[j] = False\nprint(sum(sieve))",
			Want:   "17984"},
		{Name: "big integer fibonacci",
			JS:     "let [a, b] = [0n, 1n];\nfor (let i = 0; i < 150; i++) [a, b] = [b, a + b];\nconsole.log(a.toString());",
			Python: "a, b = 0, 1\nfor _ in range(150):\n    a, b = b, a + b\nprint(a)",
			Want:   "9969216677189303386214405760200"},
		{Name: "savings goal",
			JS:     "const goal = 25000, monthly = 650, annualRate = 0.042;\nlet balance = 4000, months = 0;\nwhile (balance < goal) {\n  balance = balance * (1 + annualRate / 12) + monthly;\n  months++;\n}\nconsole.log(`${months} months (${Math.floor(months / 12)}y ${months % 12}m), final ${balance.toFixed(2)}`);",
			Python: "goal, monthly, annual_rate = 25000, 650, 0.042\nbalance, months = 4000.0, 0\nwhile balance < goal:\n    balance = balance * (1 + annual_rate / 12) + monthly\n    months += 1\nprint(f\"{months} months ({months // 12}y {months % 12}m), final {balance:.2f}\")",
			Want:   "31 months (2y 7m), final 25702.14"},
		{Name: "inflation adjusted value",
			JS:     "const inflation = [0.034, 0.029, 0.041, 0.065, 0.038];\nconst nominal = 1000;\nconst factor = inflation.reduce((f, r) => f * (1 + r), 1);\nconsole.log((nominal / factor).toFixed(2));",
			Python: "import math\ninflation = [0.034, 0.029, 0.041, 0.065, 0.038]\nfactor = math.prod(1 + r for r in inflation)\nprint(f\"{1000 / factor:.2f}\")",
			Want:   "816.71"},
		{Name: "progressive tax",
			JS:     "const brackets = [\n  { upTo: 11600, rate: 0.10 },\n  { upTo: 47150, rate: 0.12 },\n  { upTo: 100525, rate: 0.22 },\n  { upTo: 191950, rate: 0.24 },\n  { upTo: Infinity, rate: 0.32 },\n];\nfunction tax(income) {\n  let owed = 0, prev = 0;\n  for (const { upTo, rate } of brackets) {\n    if (income <= prev) break;\n    owed += (Math.min(income, upTo) - prev) * rate;\n    prev = upTo;\n  }\n  return owed;\n}\nconst t = tax(128000);\nconsole.log(`Tax: ${t.toFixed(2)} (effective ${((t / 128000) * 100).toFixed(2)}%)`);",
			Python: "brackets = [(11600, 0.10), (47150, 0.12), (100525, 0.22), (191950, 0.24), (float('inf'), 0.32)]\ndef tax(income):\n    owed, prev = 0.0, 0\n    for up_to, rate in brackets:\n        if income <= prev:\n            break\n        owed += (min(income, up_to) - prev) * rate\n        prev = up_to\n    return owed\nt = tax(128000)\nprint(f\"Tax: {t:.2f} (effective {t / 128000 * 100:.2f}%)\")",
			Want:   "Tax: 23762.50 (effective 18.56%)"},
		{Name: "moving average", Files: tx,
			JS:     "const rows = require('fs').readFileSync('transactions.csv', 'utf8').trim().split('\\n').slice(1).map(l => l.split(','));\nconst grocery = rows.filter(r => r[2] === 'groceries').map(r => Number(r[3]));\nconst ma = grocery.slice(2).map((_, i) => (grocery[i] + grocery[i + 1] + grocery[i + 2]) / 3);\nconsole.log(ma.map(v => v.toFixed(2)).join(', '));",
			Python: "import csv\nwith open('transactions.csv') as f:\n    grocery = [float(r['amount']) for r in csv.DictReader(f) if r['category'] == 'groceries']\nma = [sum(grocery[i:i + 3]) / 3 for i in range(len(grocery) - 2)]\nprint(', '.join(f\"{v:.2f}\" for v in ma))",
			Want:   "79.52, 77.75"},
		{Name: "class-based portfolio",
			JS:     "class Position {\n  #shares;\n  constructor(ticker, shares, cost) { this.ticker = ticker; this.#shares = shares; this.cost = cost; }\n  value(price) { return this.#shares * price; }\n  gain(price) { return this.value(price) - this.#shares * this.cost; }\n}\nconst prices = { AAA: 41.5, BBB: 198.2 };\nconst positions = [new Position('AAA', 100, 35.2), new Position('BBB', 20, 210.75)];\nconst gain = positions.reduce((s, p) => s + p.gain(prices[p.ticker]), 0);\nconsole.log(gain.toFixed(2));",
			Python: "class Position:\n    def __init__(self, ticker, shares, cost):\n        self.ticker, self.shares, self.cost = ticker, shares, cost\n    def value(self, price):\n        return self.shares * price\n    def gain(self, price):\n        return self.value(price) - self.shares * self.cost\n\nprices = {'AAA': 41.5, 'BBB': 198.2}\npositions = [Position('AAA', 100, 35.2), Position('BBB', 20, 210.75)]\nprint(f\"{sum(p.gain(prices[p.ticker]) for p in positions):.2f}\")",
			Want:   "379.00"},
		{Name: "write a report file", Files: tx,
			JS:     "const fs = require('fs');\nconst rows = fs.readFileSync('transactions.csv', 'utf8').trim().split('\\n').slice(1).map(l => l.split(','));\nconst total = rows.reduce((s, r) => s + +r[3], 0);\nconst report = { count: rows.length, total: Number(total.toFixed(2)), first: rows[0][0], last: rows.at(-1)[0] };\nfs.writeFileSync('report.json', JSON.stringify(report, null, 2));\nconsole.log(JSON.parse(fs.readFileSync('report.json', 'utf8')).total);",
			Python: "import csv, json\nwith open('transactions.csv') as f:\n    rows = list(csv.reader(f))[1:]\ntotal = sum(float(r[3]) for r in rows)\nreport = {'count': len(rows), 'total': round(total, 2), 'first': rows[0][0], 'last': rows[-1][0]}\nwith open('report.json', 'w') as f:\n    json.dump(report, f, indent=2)\nwith open('report.json') as f:\n    print(json.load(f)['total'])",
			Want:   "5340.97"},
		{Name: "try/catch on bad data",
			JS:     "const raw = ['12.5', 'n/a', '7', '', '3.25', 'abc'];\nlet sum = 0, bad = 0;\nfor (const v of raw) {\n  try {\n    const n = Number(v);\n    if (v.trim() === '' || Number.isNaN(n)) throw new Error(`bad value: ${v}`);\n    sum += n;\n  } catch (e) {\n    bad++;\n  }\n}\nconsole.log(`sum=${sum} bad=${bad}`);",
			Python: "raw = ['12.5', 'n/a', '7', '', '3.25', 'abc']\ntotal, bad = 0.0, 0\nfor v in raw:\n    try:\n        total += float(v)\n    except ValueError:\n        bad += 1\nprint(f\"sum={total:g} bad={bad}\")",
			Want:   "sum=22.75 bad=3"},
		{Name: "async/await pipeline", Files: accounts,
			JS:     "const fs = require('fs/promises');\nasync function main() {\n  const data = JSON.parse(await fs.readFile('accounts.json', 'utf8'));\n  const deposits = data.accounts.flatMap(a => a.transactions).filter(t => t.amount > 0);\n  const total = deposits.reduce((s, t) => s + t.amount, 0);\n  console.log(`${deposits.length} deposits totalling ${total.toFixed(2)}`);\n}\nmain();",
			Python: "import json, asyncio\n\nasync def main():\n    with open('accounts.json') as f:\n        data = json.load(f)\n    deposits = [t for a in data['accounts'] for t in a['transactions'] if t['amount'] > 0]\n    total = sum(t['amount'] for t in deposits)\n    print(f\"{len(deposits)} deposits totalling {total:.2f}\")\n\nasyncio.run(main())",
			Want:   "4 deposits totalling 3212.75"},
	}
}
