package calendar

import (
	"fmt"
	"math"
	"time"
)

// ErrNoHolidays: holidays of that country are not known here.
var ErrNoHolidays = fmt.Errorf("%w: holidays are known for country jp only", ErrInvalid)

// Equinox days are computed by the Cabinet Office's usual approximation,
// valid from 1980 to 2099 (they are announced a year ahead, and the
// approximation agrees with every announcement in that span).
const firstEquinoxYear, lastEquinoxYear = 1980, 2099

// Holidays returns rules that close a calendar on a country's public
// holidays: recurring rules for the holidays on fixed dates or weekdays
// (valid every year), and dated rules for the years from..from+years-1
// for those that move (equinoxes) or arise (Japan's "citizens' holiday",
// a day between two holidays). Every rule moves off a Sunday to the next
// day that is not a holiday (substitute holiday). Note says what was left
// out, if anything. Only "jp" (Japan, the law as of 2019-) is known.
func Holidays(country string, from, years int) (rules []Rule, note string, err error) {
	if country != "jp" {
		return nil, "", ErrNoHolidays
	}
	if years < 1 || years > 10 {
		return nil, "", fmt.Errorf("%w: years is 1..10", ErrInvalid)
	}
	sunday := []string{"sun"}
	fixed := func(name string, m, d int) Rule {
		return Rule{Name: name, Kind: DayOfMonth, Month: m, Day: d, Shift: 1, ShiftOn: sunday}
	}
	monday := func(name string, m, nth int) Rule {
		return Rule{Name: name, Kind: WeekdayOfMonth, Month: m, Weekday: "mon", Nth: nth}
	}
	rules = []Rule{fixed("元日 New Year's Day", 1, 1), monday("成人の日 Coming of Age Day", 1, 2),
		fixed("建国記念の日 National Foundation Day", 2, 11), fixed("天皇誕生日 Emperor's Birthday", 2, 23),
		fixed("昭和の日 Showa Day", 4, 29), fixed("憲法記念日 Constitution Day", 5, 3), fixed("みどりの日 Greenery Day", 5, 4),
		fixed("こどもの日 Children's Day", 5, 5), monday("海の日 Marine Day", 7, 3), fixed("山の日 Mountain Day", 8, 11),
		monday("敬老の日 Respect for the Aged Day", 9, 3), monday("スポーツの日 Sports Day", 10, 2),
		fixed("文化の日 Culture Day", 11, 3), fixed("勤労感謝の日 Labour Thanksgiving Day", 11, 23)}
	for y := from; y < from+years; y++ {
		if y < firstEquinoxYear || y > lastEquinoxYear {
			note = fmt.Sprintf("equinox days and citizens' holidays are computed for %d-%d only", firstEquinoxYear, lastEquinoxYear)
			continue
		}
		spring, autumn := equinoxes(y)
		day := func(m time.Month, d int) string {
			return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
		}
		rules = append(rules,
			Rule{Name: "春分の日 Vernal Equinox Day", Kind: Dates, Date: day(time.March, spring), Shift: 1, ShiftOn: sunday},
			Rule{Name: "秋分の日 Autumnal Equinox Day", Kind: Dates, Date: day(time.September, autumn), Shift: 1, ShiftOn: sunday})
		// A day between Respect for the Aged Day and the autumnal
		// equinox is a holiday (the only place it can happen now).
		if aged := thirdMonday(y, time.September); autumn-aged == 2 {
			rules = append(rules, Rule{Name: "国民の休日 Citizens' Holiday", Kind: Dates, Date: day(time.September, aged+1)})
		}
	}
	return rules, note, nil
}

// equinoxes are the days of March and September of the equinox holidays.
func equinoxes(y int) (spring, autumn int) {
	n := float64(y - 1980)
	leap := math.Floor(n / 4)
	return int(math.Floor(20.8431 + 0.242194*n - leap)), int(math.Floor(23.2488 + 0.242194*n - leap))
}

func thirdMonday(y int, m time.Month) int {
	first := time.Date(y, m, 1, 0, 0, 0, 0, time.UTC).Weekday()
	return 1 + (int(time.Monday)-int(first)+7)%7 + 14
}
