//! Samples of measurements and their percentiles.

/// Measurements in milliseconds.
#[derive(Debug, Default, Clone)]
pub struct Sample {
    values: Vec<f64>,
}

impl Sample {
    /// Adds one measurement.
    pub fn push(&mut self, value: f64) {
        self.values.push(value);
    }

    /// The value below which `percent` of the sample lies (nearest rank).
    pub fn percentile(&self, percent: f64) -> f64 {
        let mut sorted = self.values.clone();
        sorted.sort_by(f64::total_cmp);
        if sorted.is_empty() {
            return f64::NAN;
        }
        let rank = ((percent / 100.0) * sorted.len() as f64).ceil() as usize;
        sorted[rank.clamp(1, sorted.len()) - 1]
    }

    /// Each measurement less the one `other` took in the same place (its
    /// run), in the order they were taken.
    pub fn minus(&self, other: &Sample) -> Sample {
        let values = self.values.iter().zip(&other.values);
        Sample {
            values: values.map(|(mine, theirs)| mine - theirs).collect(),
        }
    }

    /// How many measurements there are.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// The middle value.
    pub fn median(&self) -> f64 {
        self.percentile(50.0)
    }

    /// The smallest value.
    pub fn min(&self) -> f64 {
        self.values.iter().copied().fold(f64::INFINITY, f64::min)
    }

    /// The largest value.
    pub fn max(&self) -> f64 {
        self.values
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max)
    }
}
